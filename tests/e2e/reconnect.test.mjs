// The event stream is cut in the middle of a call (its CGI process killed, or Apache restarted
// as a host does): the client reconnects, and nothing sent meanwhile is lost, which shows as a
// new peer, whose offers and answers cross the gap, still connecting with everybody.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { bodyData, joinCall, waitForMesh, withTwoPeers } from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { roomName } from './lib/server.mjs';

async function streamCount(peer) {
  return peer.page.evaluate(() => window.webrtcCgi.streams.length);
}

describe('a cut event stream', () => {
  const call = serverAndBrowser({ name: 'reconnect' });

  for (const cut of ['kill', 'restart']) {
    const what = cut === 'kill' ? 'the stream\'s CGI process is killed' : 'Apache is restarted';
    test(`${what}: the client reconnects and a peer joining during the gap connects`, { timeout: 120_000 }, async () => {
      const room = roomName(cut);
      await withTwoPeers(call.browser, call.server, room, async (peers, [aId]) => {
        const [a, b] = peers;
        const streamsBefore = await streamCount(a);

        if (cut === 'kill') {
          assert.ok(call.server.killEventStreams(aId) >= 1, 'a held event stream of a was running');
        } else {
          call.server.signal('restart');
        }
        // Join at once, so that c's join and its negotiation reach a while a has no stream.
        const c = await joinCall(call.browser, call.server, room, { name: 'c' });
        peers.push(c);
        await waitForMesh([a, b, c], 60_000);
        assert.ok(await streamCount(a) > streamsBefore, 'a opened a new event stream');
        assert.equal(await bodyData(a, 'state'), 'live');
      });
    });
  }
});
