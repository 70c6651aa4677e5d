// Who is in the room: a closed tab disappears from the others' screens, a peer that vanishes
// without saying goodbye expires after the presence timeout, a reloaded page comes back into
// the call, and a full room turns the extra peer away without disturbing the call.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { connectedCount, openPeer } from './lib/browser.mjs';
import {
  describePage, peerId, remoteTiles, statusBanner, UI, waitForBody, waitForMesh, waitForWaitingPanel, withTwoPeers,
} from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { roomName } from './lib/server.mjs';

// The shortest presence timeout the executable accepts is hold_seconds + 5.
const HOLD_SECONDS = 5;
const PEER_TIMEOUT_SECONDS = 10;

/** Waits until `peer` shows no remote tile any more; returns how long that took. */
async function waitForEmptyRoom(peer, timeoutMs) {
  const started = Date.now();
  await waitForBody(peer, (selector) => document.querySelectorAll(selector).length === 0,
    timeoutMs, 'removal of the departed peer\'s tile', UI.remoteTile);
  return Date.now() - started;
}

describe('presence', () => {
  const call = serverAndBrowser({
    name: 'presence',
    settings: { hold_seconds: HOLD_SECONDS, peer_timeout_seconds: PEER_TIMEOUT_SECONDS },
  });

  test('a closed tab disappears from the other peer within the presence timeout', { timeout: 90_000 }, async () => {
    await withTwoPeers(call.browser, call.server, roomName('close'), async ([a, b], [, bId]) => {
      await b.page.close({ runBeforeUnload: true });
      const took = await waitForEmptyRoom(a, PEER_TIMEOUT_SECONDS * 1000);
      await waitForBody(a, (id) => (window.__e2eTraffic || [])
        .some((entry) => entry.kind === 'received' && entry.type === 'leave' && entry.from === id),
      PEER_TIMEOUT_SECONDS * 1000, 'leave event from the server', bId);
      assert.ok(took <= PEER_TIMEOUT_SECONDS * 1000, `removal took ${took} ms`);
      await waitForWaitingPanel(a, 5000);
      assert.equal(await connectedCount(a), 0, 'the connection to the closed tab is closed');
    });
  });

  test('a peer that vanishes without leaving expires after the presence timeout', { timeout: 90_000 }, async () => {
    await withTwoPeers(call.browser, call.server, roomName('vanish'), async ([a, b], [, bId]) => {
      // As if the browser crashed or the network went away: no leave request reaches the server.
      await b.page.evaluate(() => {
        navigator.sendBeacon = () => true;
      });
      await b.context.route(/mode=leave/, (route) => route.abort());
      const closedAt = Date.now();
      await b.context.close();
      // The last event stream of b is held up to HOLD_SECONDS, then nothing is heard of b.
      const limit = (PEER_TIMEOUT_SECONDS + HOLD_SECONDS + 5) * 1000;
      await waitForEmptyRoom(a, limit);
      await waitForBody(a, (id) => (window.__e2eTraffic || [])
        .some((entry) => entry.kind === 'received' && entry.type === 'leave' && entry.from === id),
      limit - (Date.now() - closedAt), 'leave event from the server', bId);
      const took = Date.now() - closedAt;
      assert.ok(took <= limit, `expiry took ${took} ms`);
    });
  });

  test('a reloaded page comes back into the call', { timeout: 90_000 }, async () => {
    await withTwoPeers(call.browser, call.server, roomName('reload'), async ([a, b], [aId, bId]) => {
      await b.page.reload();
      await waitForBody(b, () => Boolean(document.body.dataset.peer), 20_000, 'a peer id after the reload');
      const newBId = await peerId(b);
      assert.notEqual(newBId, '', 'the reloaded page joined again');
      assert.deepEqual(await waitForMesh([a, b]), [aId, newBId]);
      const tiles = await remoteTiles(a);
      assert.equal(tiles.length, 1, `one tile for b, not a stale one too: ${JSON.stringify(tiles)} (old id ${bId})`);
    });
  });
});

describe('a full room', () => {
  const call = serverAndBrowser({ name: 'room-full', settings: { max_peers: 2 } });

  test('turns the extra peer away with a clear message and leaves the call alone', { timeout: 90_000 }, async () => {
    const room = roomName('full');
    await withTwoPeers(call.browser, call.server, room, async (peers, [aId, bId]) => {
      const [a, b] = peers;
      const c = await openPeer(call.browser, `${call.server.url}?room=${room}`, { name: 'c' });
      peers.push(c);
      await waitForBody(c, () => document.body.dataset.state === 'full', 20_000, 'room-full state');
      const status = await statusBanner(c);
      assert.equal(status.kind, 'full');
      assert.ok(status.visible, 'the message is shown');
      assert.match(status.text, /full/i, `the message says the room is full: "${status.text}"`);
      assert.ok(await c.page.locator(UI.statusText).isVisible(), 'the message is visible on screen');
      assert.equal(await connectedCount(c), 0);
      assert.equal((await remoteTiles(c)).length, 0, 'the extra peer sees nobody');

      // The call goes on undisturbed: same peers, still connected, a few seconds later.
      await a.page.waitForTimeout(3000);
      for (const [peer, other] of [[a, bId], [b, aId]]) {
        const tiles = await remoteTiles(peer);
        assert.deepEqual(tiles, [{ peer: other, state: 'connected' }], await describePage(peer));
        assert.equal(await connectedCount(peer), 1);
      }
    });
  });
});
