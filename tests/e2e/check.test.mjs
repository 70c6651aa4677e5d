// The self-check page and the client's own answer to a buffering host, through Apache: with the
// shipped .htaccess the page's streaming test passes; without it, mod_deflate buffers the
// stream, the page says so and names the fix, and a call still connects because the clients
// notice the buffering and switch to polling.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { openPeer } from './lib/browser.mjs';
import { CHECK_PAGE, waitForBody, withTwoPeers } from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { roomName } from './lib/server.mjs';

/** Opens the self-check page and waits for its streaming test to finish. */
async function streamingVerdict(browser, server) {
  const peer = await openPeer(browser, `${server.url}?mode=check`, { name: 'check' });
  try {
    await waitForBody(peer, (id) => document.getElementById(id)?.className !== 'pending', 20_000, 'streaming verdict',
      CHECK_PAGE.streaming);
    return await peer.page.evaluate(({ streaming, streamingResult, dataRow }) => ({
      verdict: document.getElementById(streaming).className,
      text: document.getElementById(streamingResult).textContent,
      data: document.querySelector(dataRow)?.textContent ?? '',
    }), CHECK_PAGE);
  } finally {
    await peer.context.close();
  }
}

describe('a host that streams (shipped .htaccess)', () => {
  const site = serverAndBrowser({ name: 'check-streams' });

  test('the self-check page finds streaming and a working data directory', { timeout: 60_000 }, async () => {
    const { verdict, text, data } = await streamingVerdict(site.browser, site.server);
    assert.equal(verdict, 'good', text);
    assert.match(text, /arrive as they are sent/);
    assert.match(data, /writable, and locking works/);
  });
});

describe('a host that buffers (no .htaccess, mod_deflate on)', () => {
  const site = serverAndBrowser({
    name: 'check-buffers',
    htaccess: false,
    settings: { hold_seconds: 3, peer_timeout_seconds: 30 },
  });

  test('the self-check page reports the buffering and names the .htaccess fix', { timeout: 60_000 }, async () => {
    const { verdict, text } = await streamingVerdict(site.browser, site.server);
    assert.equal(verdict, 'failure', text);
    assert.match(text, /arrived together/);
    assert.match(text, /\.htaccess/);
  });

  test('two peers still connect: their clients switch to polling', { timeout: 90_000 }, async () => {
    await withTwoPeers(site.browser, site.server, roomName('buffered'), async (peers) => {
      for (const peer of peers) {
        await waitForBody(peer, () => window.webrtcCgi.polling === true, 20_000, 'the switch to polling');
        assert.ok(
          peer.logs.some((line) => line.includes('switching to polling')),
          `${peer.name} said why in the console`,
        );
      }
    }, 60_000);
  });
});
