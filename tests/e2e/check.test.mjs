// The self-check page and the client's own answer to a buffering host, through Apache: with the
// shipped .htaccess the page's streaming test passes; without it, mod_deflate buffers the
// stream, the page says so and names the fix, and a call still connects because the clients
// notice the buffering and switch to polling.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, openPeer } from './lib/browser.mjs';
import { waitForBody, withTwoPeers } from './lib/client.mjs';
import { roomName, startServer } from './lib/server.mjs';

/** Opens the self-check page and waits for its streaming test to finish. */
async function streamingVerdict(browser, server) {
  const peer = await openPeer(browser, `${server.url}?mode=check`, { name: 'check' });
  try {
    await waitForBody(peer, () => document.getElementById('streaming')?.className !== 'pending', 20_000, 'streaming verdict');
    return await peer.page.evaluate(() => ({
      verdict: document.getElementById('streaming').className,
      text: document.getElementById('streaming-result').textContent,
      data: document.querySelector('tr:nth-child(4)')?.textContent ?? '',
    }));
  } finally {
    await peer.context.close();
  }
}

describe('a host that streams (shipped .htaccess)', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer({ name: 'check-streams' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test('the self-check page finds streaming and a working data directory', { timeout: 60_000 }, async () => {
    const { verdict, text, data } = await streamingVerdict(browser, server);
    assert.equal(verdict, 'good', text);
    assert.match(text, /arrive as they are sent/);
    assert.match(data, /writable, and locking works/);
  });
});

describe('a host that buffers (no .htaccess, mod_deflate on)', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer({
      name: 'check-buffers',
      htaccess: false,
      settings: { hold_seconds: 3, peer_timeout_seconds: 30 },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test('the self-check page reports the buffering and names the .htaccess fix', { timeout: 60_000 }, async () => {
    const { verdict, text } = await streamingVerdict(browser, server);
    assert.equal(verdict, 'failure', text);
    assert.match(text, /arrived together/);
    assert.match(text, /\.htaccess/);
  });

  test('two peers still connect: their clients switch to polling', { timeout: 90_000 }, async () => {
    await withTwoPeers(browser, server, roomName('buffered'), async (peers) => {
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
