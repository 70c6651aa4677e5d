// What a call costs the host once it is connected, through Apache with real Chromium peers: a
// settled call keeps one held event stream (the doorkeeper's), signaling between connected
// peers travels over their data channels without a request to the host, the call survives the
// doorkeeper leaving and a connection closing, and behind an entry-process limiter a browser
// that meets 508 waits as Retry-After says and gets in once the limit frees.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { closePeers, openPeer } from './lib/browser.mjs';
import { debugInfo, joinCall, peerId, UI, waitForBody, waitForCallWith, waitForMesh, waitForQuiet, waitForTile } from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { join, openEventStream, roomName } from './lib/server.mjs';

/** Polls `predicate` (in this process) until it holds; fails with `what` after `timeoutMs`. */
async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How many lines the access log has now; `since` returns the lines after such a mark. */
function accessLog(server) {
  const file = path.join(server.dir, 'logs/access.log');
  const read = () => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const mark = read().length;
  return { since: () => read().slice(mark) };
}

describe('entry-process economy of a connected call', () => {
  const call = serverAndBrowser({ name: 'economy' });

  /**
   * Opens a, b and c in a fresh room, waits until they are connected and settled (everyone
   * but the doorkeeper quiet), runs `check` with the peers (an array it may add to), their ids
   * and the doorkeeper, and closes every peer whatever happens.
   */
  async function withSettledCall(prefix, check) {
    const room = roomName(prefix);
    const peers = [];
    try {
      for (const name of ['a', 'b', 'c']) peers.push(await joinCall(call.browser, call.server, room, { name }));
      const ids = await waitForMesh(peers);
      const keeper = await waitForQuiet(peers);
      await check({ peers, ids, keeper, room });
    } finally {
      await closePeers(peers);
    }
  }

  test('a settled 3-person call holds at most one event stream', { timeout: 120_000 }, async () => {
    await withSettledCall('settled', async () => {
      const samples = [];
      for (let i = 0; i < 50; i += 1) {
        samples.push(call.server.countEventStreams((params) => params.get('hold') !== '0'));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(Math.max(...samples) <= 1, `held event streams sampled over 5 s: ${samples.join(' ')}`);
      assert.ok(samples.includes(1), 'the doorkeeper still holds its stream');
    });
  });

  test('a screen share and an ICE restart in a quiet call make no POST to the host', { timeout: 120_000 }, async () => {
    await withSettledCall('share', async ({ peers: [a, b, c], ids }) => {
      const log = accessLog(call.server);
      await c.page.click(UI.share);
      await waitForTile(b, ids[2], 'sharing', 'true');
      // A renegotiation while the channels live: c restarts ICE on every connection.
      const sentBefore = Object.fromEntries(Object.entries((await debugInfo(c)).peers).map(([id, peer]) => [id, peer.route.viaChannel]));
      await c.page.evaluate(() => {
        for (const pc of window.__e2ePeerConnections) if (pc.connectionState === 'connected') pc.restartIce();
      });
      await waitForBody(c, (counts) => [...window.webrtcCgi.peers].every(([id, peer]) =>
        peer.route.viaChannel > counts[id] && peer.signalingState === 'stable' && peer.connectionState === 'connected'),
      15_000, 'the restarts negotiated over the channels', sentBefore);
      await waitForCallWith(b, [ids[0], ids[2]]);
      await waitForCallWith(a, [ids[1], ids[2]]);
      const posts = log.since().filter((line) => line.includes('"POST '));
      assert.deepEqual(posts, [], 'no POST reached the host during the share and the restarts');
    });
  });

  test('when the doorkeeper closes its tab, a newcomer still connects to everyone', { timeout: 150_000 }, async () => {
    await withSettledCall('doorkeeper', async ({ peers, keeper, room }) => {
      const rest = peers.filter((peer) => peer !== keeper);
      await keeper.context.close();
      peers.splice(peers.indexOf(keeper), 1);
      const d = await joinCall(call.browser, call.server, room, { name: 'd' });
      peers.push(d);
      await waitForMesh([...rest, d], 40_000);
      await waitForQuiet([...rest, d]);
    });
  });

  test('a peer whose connection is closed recovers it through the server', { timeout: 150_000 }, async () => {
    await withSettledCall('closed', async ({ peers, ids }) => {
      const c = peers[2];
      // c loses one of its connections, as when the browser gives a connection up.
      const closed = await c.page.evaluate(() => {
        const pc = window.__e2ePeerConnections.find((each) => each.connectionState === 'connected');
        pc?.close();
        return Boolean(pc);
      });
      assert.equal(closed, true);
      await waitForMesh(peers, 60_000);
      assert.deepEqual(Object.keys((await debugInfo(c)).peers).sort(), [ids[0], ids[1]].sort());
      await waitForQuiet(peers);
    });
  });
});

describe('behind an entry-process limit (mod_qos answering 508)', () => {
  const limited = serverAndBrowser({ name: 'economy-qos', qos: { limit: 3, retryAfter: 2 } });

  test('a browser that meets 508 waits as Retry-After says and connects once the limit frees', { timeout: 120_000 }, async () => {
    const room = roomName('limit');
    const peers = [];
    const holders = [];
    try {
      const { server, browser } = limited;
      peers.push(await joinCall(browser, server, room, { name: 'a' }));
      // A page's first event stream is short (3 s, to find a buffering host quickly); a's
      // stream must be its regular held one, or its end would free the limit for b early.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      // b's page loads, but its join waits until the limit is used up.
      let release;
      const gate = new Promise((resolve) => { release = resolve; });
      const answers = [];
      const b = await openPeer(browser, `${server.url}?room=${room}`, {
        name: 'b',
        beforeGoto: async (page) => {
          page.on('response', (response) => {
            if (response.url().includes('mode=join')) answers.push({ at: Date.now(), status: response.status() });
          });
          await page.route((url) => url.searchParams.get('mode') === 'join', async (route) => {
            await gate;
            await route.continue();
          });
        },
      });
      peers.push(b);
      // a holds one request (its stream); two more fill the limit of 3. They stand for the
      // account's other requests: one that meets a 508 itself (b's page may still be
      // fetching something) simply tries again.
      await waitFor(() => server.countEventStreams() === 1, 10_000, 'a\'s one held stream');
      const holderIds = [];
      for (let i = 0; i < 2; i += 1) {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const holderRoom = roomName('holder');
          const who = await join(server.url, holderRoom).catch((error) => {
            if (!/answered 508/.test(String(error)) || Date.now() > deadline) throw error;
            return null;
          });
          if (who) {
            const stream = openEventStream(server.url, holderRoom, who);
            stream.finished.catch(() => undefined);
            const held = await waitFor(() => server.countEventStreams() >= i + 2, 2000, 'the holder\'s stream')
              .then(() => true, () => false);
            if (held) {
              holderIds.push(who.peer);
              holders.push(stream);
              break;
            }
            stream.close();
            if (Date.now() > deadline) throw new Error(`holder ${i + 1} could not hold a stream`);
          }
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      }
      await waitFor(() => server.countEventStreams() === 3, 5000, 'the limit used up by three streams');
      release();
      await new Promise((resolve) => setTimeout(resolve, 6500));
      const refused = answers.filter((answer) => answer.status === 508);
      assert.ok(refused.length >= 2, `b's join met 508 and tried again: ${JSON.stringify(answers)}`);
      for (let i = 1; i < refused.length; i += 1) {
        assert.ok(refused[i].at - refused[i - 1].at >= 1900, `attempts ${JSON.stringify(answers)} are at least Retry-After (2 s) apart`);
      }
      // The limit frees: the holders go (their processes end, as a host's would when they finish).
      for (const holder of holders) holder.close();
      for (const id of holderIds) server.killEventStreams(id);
      await waitForCallWith(b, [await peerId(peers[0])], 30_000);
      assert.equal(answers.at(-1).status, 200, 'the last join was let in');
    } finally {
      for (const holder of holders) holder.close();
      await closePeers(peers);
    }
  });
});
