// Calls through Apache with real Chromium peers and fake cameras: two peers, a three-peer full
// mesh, chat rendered as text, and the screenshots of docs/screenshots/.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { closePeers, DESKTOP, PHONE } from './lib/browser.mjs';
import {
  bodyData, chatSender, closeChatPanel, joinCall, peerId, sendChat, UI, waitForChat, waitForMesh, waitForWaitingPanel,
  withTwoPeers,
} from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { repoRoot, roomName } from './lib/server.mjs';

const screenshots = path.join(repoRoot, 'docs/screenshots');

describe('calls through Apache', () => {
  const call = serverAndBrowser({ name: 'call' });

  test('two peers in one room connect and each plays the other\'s video', { timeout: 90_000 }, async () => {
    const [aId, bId] = await withTwoPeers(call.browser, call.server, roomName('two'), async ([a]) => {
      assert.equal(await bodyData(a, 'state'), 'live');
      assert.equal(await a.page.locator(UI.waiting).isVisible(), false, 'the waiting panel is gone');
    });
    assert.notEqual(aId, bId);
  });

  test('waiting screen: one peer alone sees the room link', { timeout: 60_000 }, async () => {
    const room = roomName('wait');
    const peers = [];
    try {
      const a = await joinCall(call.browser, call.server, room, { name: 'alone' });
      peers.push(a);
      const opened = Date.now();
      await waitForWaitingPanel(a, 20_000);
      assert.ok(Date.now() - opened < 10_000, `the waiting panel took ${Date.now() - opened} ms to appear`);
      const link = await a.page.inputValue(UI.roomLink);
      assert.equal(link, `${call.server.url}?room=${room}`, 'the link to share opens this room');
      // Let the own camera's picture appear before the screenshot.
      await a.page.waitForFunction((selector) => [...document.querySelectorAll(selector)]
        .some((video) => video.videoWidth > 0), UI.video, { timeout: 10_000 });
      fs.mkdirSync(screenshots, { recursive: true });
      await a.page.screenshot({ path: path.join(screenshots, 'waiting.png') });
      await a.page.setViewportSize(PHONE);
      await closeChatPanel(a);
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
        const peer = await joinCall(call.browser, call.server, room, { name });
        peers.push(peer);
        ids.push(await peerId(peer));
      }
    });
    after(() => closePeers(peers));

    test('form a full mesh: each has two connected peers playing video', { timeout: 90_000 }, async () => {
      await waitForMesh(peers);
      for (const peer of peers) {
        assert.equal(await bodyData(peer, 'peers'), '2');
      }
    });

    test('screenshots of the call on a desktop and a phone', { timeout: 60_000 }, async () => {
      const [a, b] = peers;
      fs.mkdirSync(screenshots, { recursive: true });
      assert.equal(await a.page.locator(UI.remoteTile).count(), 2);
      // A friendly line in the chat, so the picture shows what the chat is for.
      const greeting = 'Morning both! Can you see my screen share later?';
      await sendChat(b, greeting);
      await waitForChat(a, greeting);
      await a.page.screenshot({ path: path.join(screenshots, 'call.png') });
      await a.page.setViewportSize(PHONE);
      // On a phone the chat panel covers the call; show the call, as a phone user first sees it.
      await closeChatPanel(a);
      await a.page.waitForTimeout(800);
      await a.page.screenshot({ path: path.join(screenshots, 'call-phone.png') });
      await a.page.setViewportSize(DESKTOP);
    });
    test('a chat message appears at the others as text, never as markup', { timeout: 60_000 }, async () => {
      const [a, b, c] = peers;
      const text = `hello <img src=x onerror="window.__injected=1"> & <b>bold</b> ${Date.now()}`;
      await sendChat(a, text);
      for (const receiver of [b, c]) {
        await waitForChat(receiver, text);
        assert.equal(await chatSender(receiver, text), ids[0], 'the message names its sender');
        assert.equal(await receiver.page.locator(UI.chatMarkup).count(), 0, 'no element was created from the text');
        assert.equal(await receiver.page.evaluate(() => window.__injected), undefined, 'no script ran');
        // At desktop width the chat panel is open, so the literal markup is on screen.
        assert.ok(
          await receiver.page.locator(UI.chatText, { hasText: '<img src=x' }).first().isVisible(),
          'the markup shows literally in the chat',
        );
      }
      const own = await a.page.$$eval(UI.ownChatText, (nodes) => nodes.map((node) => node.textContent));
      assert.ok(own.includes(text), 'the sender sees its own message');
    });

  });
});
