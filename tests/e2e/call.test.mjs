// Calls through Apache with real Chromium peers and fake cameras: two peers, a three-peer full
// mesh, chat rendered as text, and the screenshots of docs/screenshots/.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { closePeers, DESKTOP, launchBrowser, PHONE } from './lib/browser.mjs';
import { joinCall, peerId, REMOTE_TILE, waitForBody, waitForMesh, withTwoPeers } from './lib/client.mjs';
import { repoRoot, roomName, startServer } from './lib/server.mjs';

const screenshots = path.join(repoRoot, 'docs/screenshots');

describe('calls through Apache', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer({ name: 'call' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    server?.stop();
  });

  test('two peers in one room connect and each plays the other\'s video', { timeout: 90_000 }, async () => {
    const [aId, bId] = await withTwoPeers(browser, server, roomName('two'), async ([a]) => {
      assert.equal(await a.page.evaluate(() => document.body.dataset.state), 'live');
      assert.equal(await a.page.locator('#waiting').isVisible(), false, 'the waiting panel is gone');
    });
    assert.notEqual(aId, bId);
  });

  test('waiting screen: one peer alone sees the room link', { timeout: 60_000 }, async () => {
    const room = roomName('wait');
    const peers = [];
    try {
      const a = await joinCall(browser, server, room, { name: 'alone' });
      peers.push(a);
      const opened = Date.now();
      await waitForBody(a, () => !document.querySelector('#waiting').hidden, 20_000, 'waiting panel');
      assert.ok(Date.now() - opened < 10_000, `the waiting panel took ${Date.now() - opened} ms to appear`);
      const link = await a.page.inputValue('#room-link');
      assert.equal(link, `${server.url}?room=${room}`, 'the link to share opens this room');
      // Let the own camera's picture appear before the screenshot.
      await a.page.waitForFunction(() => [...document.querySelectorAll('#tiles video')]
        .some((video) => video.videoWidth > 0), undefined, { timeout: 10_000 });
      fs.mkdirSync(screenshots, { recursive: true });
      await a.page.screenshot({ path: path.join(screenshots, 'waiting.png') });
      await a.page.setViewportSize(PHONE);
      if (await a.page.locator('#chat-close').isVisible()) await a.page.click('#chat-close');
      await a.page.waitForTimeout(500);
      await a.page.screenshot({ path: path.join(screenshots, 'waiting-phone.png') });
    } finally {
      await closePeers(peers);
    }
  });

  describe('three peers', () => {
    const room = roomName('three');
    const peers = [];
    const ids = [];
    before(async () => {
      for (const name of ['a', 'b', 'c']) {
        const peer = await joinCall(browser, server, room, { name });
        peers.push(peer);
        ids.push(await peerId(peer));
      }
    });
    after(() => closePeers(peers));

    test('form a full mesh: each has two connected peers playing video', { timeout: 90_000 }, async () => {
      await waitForMesh(peers);
      for (const peer of peers) {
        assert.equal(await peer.page.evaluate(() => document.body.dataset.peers), '2');
      }
    });

    test('screenshots of the call on a desktop and a phone', { timeout: 60_000 }, async () => {
      const [a, b] = peers;
      fs.mkdirSync(screenshots, { recursive: true });
      assert.equal(await a.page.locator(REMOTE_TILE).count(), 2);
      // A friendly line in the chat, so the picture shows what the chat is for.
      const greeting = 'Morning both! Can you see my screen share later?';
      await b.page.waitForFunction(() => !document.querySelector('#chat-send').disabled, undefined, { timeout: 20_000 });
      await b.page.fill('#chat-input', greeting);
      await b.page.click('#chat-send');
      await a.page.waitForFunction(
        (expected) => [...document.querySelectorAll('#chat-log li.message .text')].some((node) => node.textContent === expected),
        greeting,
        { timeout: 15_000 },
      );
      await a.page.screenshot({ path: path.join(screenshots, 'call.png') });
      await a.page.setViewportSize(PHONE);
      // On a phone the chat panel covers the call; show the call, as a phone user first sees it.
      if (await a.page.locator('#chat-close').isVisible()) await a.page.click('#chat-close');
      await a.page.waitForTimeout(800);
      await a.page.screenshot({ path: path.join(screenshots, 'call-phone.png') });
      await a.page.setViewportSize(DESKTOP);
    });
    test('a chat message appears at the others as text, never as markup', { timeout: 60_000 }, async () => {
      const [a, b, c] = peers;
      const text = `hello <img src=x onerror="window.__injected=1"> & <b>bold</b> ${Date.now()}`;
      await a.page.waitForFunction(() => !document.querySelector('#chat-send').disabled, undefined, { timeout: 20_000 });
      if (!(await a.page.locator('#chat-input').isVisible())) await a.page.click('#chat-toggle');
      await a.page.fill('#chat-input', text);
      await a.page.click('#chat-send');
      for (const receiver of [b, c]) {
        await receiver.page.waitForFunction(
          (expected) => [...document.querySelectorAll('#chat-log li.message .text')].some((node) => node.textContent === expected),
          text,
          { timeout: 15_000 },
        );
        const fromId = await receiver.page.$$eval('#chat-log li.message', (items, expected) =>
          items.find((item) => item.querySelector('.text')?.textContent === expected)?.dataset.from, text);
        assert.equal(fromId, ids[0], 'the message names its sender');
        assert.equal(await receiver.page.locator('#chat-log img, #chat-log b').count(), 0, 'no element was created from the text');
        assert.equal(await receiver.page.evaluate(() => window.__injected), undefined, 'no script ran');
        // At desktop width the chat panel is open, so the literal markup is on screen.
        assert.ok(
          await receiver.page.locator('#chat-log li.message .text', { hasText: '<img src=x' }).first().isVisible(),
          'the markup shows literally in the chat',
        );
      }
      const own = await a.page.$$eval('#chat-log li.message[data-from="self"] .text', (nodes) => nodes.map((node) => node.textContent));
      assert.ok(own.includes(text), 'the sender sees its own message');
    });

  });
});
