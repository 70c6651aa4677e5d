// What a call tells the people in it, through Apache with real Chromium peers: names (asked
// once, kept in the browser, sent peer to peer, renamed during the call), who speaks (the fake
// microphone beeps), who muted, how each line is (the quality popover's live figures), the
// mesh's per-peer bitrate caps, files sent over the data channel, the keyboard shortcuts,
// an accessibility audit with axe-core, and the screenshots of the README.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { closePeers, DESKTOP, PHONE } from './lib/browser.mjs';
import {
  closeChatPanel, joinCall, peerId, pressed, sendChat, UI, waitForBody, waitForChat, waitForMesh, waitForTile,
} from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { repoRoot, roomName } from './lib/server.mjs';

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const screenshots = path.join(repoRoot, 'docs/screenshots');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Joins with a name typed into the name card (or skips the card when `name` is null). */
async function joinAs(browser, server, room, peerName, name, options = {}) {
  const peer = await joinCall(browser, server, room, { name: peerName, ...options });
  await peer.page.waitForSelector(UI.nameCard, { state: 'visible', timeout: 10_000 });
  if (name === null) {
    await peer.page.click(UI.nameSkip);
  } else {
    await peer.page.fill(UI.nameInput, name);
    await peer.page.press(UI.nameInput, 'Enter');
  }
  await peer.page.waitForSelector(UI.nameCard, { state: 'hidden', timeout: 5_000 });
  return peer;
}

/** Waits until `peer` shows `otherId`'s tile named `name`. */
function waitForName(peer, otherId, name) {
  return waitForBody(peer, ([selector, expected]) => document.querySelector(selector)?.textContent === expected,
    15_000, `tile ${otherId} named ${name}`, [UI.tileName(otherId), name]);
}

/** Waits until the tile matching `selector` at `peer` is (or is not) highlighted as speaking. */
function waitForSpeaking(peer, selector, speaking, what) {
  return waitForBody(peer, ([tile, expected]) => document.querySelector(tile)?.dataset.speaking === expected,
    15_000, what, [selector, String(speaking)]);
}

/** Sets the microphone of `peer` to `on` with its button. */
async function setMic(peer, on) {
  if ((await pressed(peer, UI.mic)) === on) await peer.page.click(UI.mic);
  assert.equal(await pressed(peer, UI.mic), !on);
}

/**
 * The video each of `peer`'s connections sends: the cap its sender has (getParameters) and
 * the bitrate measured from outbound-rtp bytesSent over `seconds`.
 */
function videoSending(peer, seconds) {
  return peer.page.evaluate(async (ms) => {
    const read = async () => Promise.all((window.__e2ePeerConnections || [])
      .filter((pc) => pc.connectionState === 'connected')
      .map(async (pc) => {
        const sender = pc.getSenders().find((candidate) => candidate.track?.kind === 'video');
        let bytes = 0;
        for (const entry of (await pc.getStats()).values()) {
          if (entry.type === 'outbound-rtp' && entry.kind === 'video') bytes += entry.bytesSent;
        }
        const encoding = sender?.getParameters().encodings?.[0] ?? {};
        return { bytes, at: performance.now(), maxBitrate: encoding.maxBitrate, scale: encoding.scaleResolutionDownBy };
      }));
    const first = await read();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const second = await read();
    return second.map((later, index) => ({
      maxBitrate: later.maxBitrate,
      scale: later.scale,
      bitrate: ((later.bytes - first[index].bytes) * 8 * 1000) / (later.at - first[index].at),
    }));
  }, seconds * 1000);
}

/** Records in the page every value the progress bars of `direction` transfers show (0 to 1). */
function recordProgress(peer, direction) {
  return peer.page.evaluate((selector) => {
    window.__progress = [];
    new MutationObserver(() => {
      for (const bar of document.querySelectorAll(`${selector} progress`)) window.__progress.push(bar.value / bar.max);
    }).observe(document.querySelector('#transfers'), { subtree: true, childList: true, attributes: true, characterData: true });
  }, UI.transfer(direction));
}

/** Runs axe-core in the page: every rule, the experimental ones included. */
async function axeViolations(peer, what) {
  const violations = await peer.page.evaluate(async (source) => {
    if (!window.axe) (0, eval)(source);
    const experimental = window.axe.getRules(['experimental']).map((rule) => rule.ruleId);
    const result = await window.axe.run(document, { rules: Object.fromEntries(experimental.map((id) => [id, { enabled: true }])) });
    return result.violations.map((violation) => `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  }, axeSource);
  assert.deepEqual(violations, [], `axe-core on ${what}`);
}

/** Runs `body` with a fresh room and a list to push its peers onto; closes them however it ends. */
async function inRoom(prefix, body) {
  const peers = [];
  try {
    await body(roomName(prefix), peers);
  } finally {
    await closePeers(peers);
  }
}

describe('a call people enjoy', () => {
  const call = serverAndBrowser({ name: 'ux' });

  describe('two people', () => {
    const room = roomName('ux');
    const peers = [];
    let aId;
    let bId;
    before(async () => {
      peers.push(await joinAs(call.browser, call.server, room, 'a', 'Ada Lovelace'));
      peers.push(await joinAs(call.browser, call.server, room, 'b', null));
      [aId, bId] = await waitForMesh(peers);
    });
    after(() => closePeers(peers));

    test('names show at the other side as text, in tiles and chat, and survive a rename', { timeout: 60_000 }, async () => {
      const [a, b] = peers;
      await waitForName(b, aId, 'Ada Lovelace');
      await waitForName(a, bId, `Guest ${bId.slice(0, 4)}`);
      assert.equal(await a.page.textContent(`${UI.selfTile} figcaption .name`), 'Ada Lovelace (you)');
      // Renamed during the call, through the device dialog; odd characters are cleaned.
      await a.page.click(UI.devices);
      await a.page.fill(UI.nameField, '  Ada\u202e <b>L.</b>  ');
      await a.page.press(UI.nameField, 'Tab');
      await a.page.click(UI.devicesClose);
      await waitForName(b, aId, 'Ada <b>L.</b>');
      assert.equal(await b.page.locator(`${UI.tileOf(aId)} b`).count(), 0, 'the name is text, not markup');
      await sendChat(a, 'hello from Ada');
      await waitForChat(b, 'hello from Ada');
      assert.ok((await b.page.$$eval(UI.chatWho, (nodes) => nodes.map((node) => node.textContent))).includes('Ada <b>L.</b>'));
      // The name is remembered by the browser, not the server: a reload offers it again.
      assert.equal(await a.page.evaluate(() => localStorage.getItem('webrtc-cgi.name')), 'Ada <b>L.</b>');
      await a.page.reload();
      await a.page.waitForSelector(UI.nameCard, { state: 'visible', timeout: 10_000 });
      assert.equal(await a.page.inputValue(UI.nameInput), 'Ada <b>L.</b>');
      await a.page.click(UI.nameSkip);
      [aId, bId] = await waitForMesh(peers);
      await waitForName(b, aId, 'Ada <b>L.</b>');
    });

    test('mute and camera off show on the remote tile, with the name in place of the video', { timeout: 60_000 }, async () => {
      const [a, b] = peers;
      await setMic(a, false);
      await waitForTile(b, aId, 'mic', 'off');
      assert.ok(await b.page.locator(`${UI.tileOf(aId)} .muted-icon`).isVisible(), 'the muted icon shows');
      await a.page.click(UI.camera);
      await waitForTile(b, aId, 'camera', 'off');
      assert.equal(await b.page.textContent(UI.avatarName(aId)), 'Ada <b>L.</b>');
      assert.ok(await b.page.locator(UI.avatarName(aId)).isVisible(), 'the name shows where the video was');
      await a.page.click(UI.camera);
      await setMic(a, true);
      await waitForTile(b, aId, 'camera', 'on');
      await waitForTile(b, aId, 'mic', 'on');
    });

    test('a tile can be pinned large above the others, and shown full screen', { timeout: 60_000 }, async () => {
      const [a] = peers;
      const width = (selector) => a.page.$eval(selector, (tile) => tile.getBoundingClientRect().width);
      await a.page.hover(UI.tileOf(bId));
      await a.page.click(UI.pinButton(bId));
      assert.equal(await a.page.getAttribute(UI.pinButton(bId), 'aria-pressed'), 'true');
      // With one other person the own tile is a small corner picture; pinned, it joins the strip.
      await waitForBody(a, ([pinned, own]) => document.querySelector(pinned).getBoundingClientRect().width
        > 2 * document.querySelector(own).getBoundingClientRect().width, 5_000, 'the pinned tile large', [UI.tileOf(bId), UI.selfTile]);
      assert.ok(await a.page.$eval(UI.tileOf(bId), (tile) => tile.classList.contains('pinned')));
      await a.page.click(UI.pinButton(bId));
      assert.equal(await a.page.getAttribute(UI.pinButton(bId), 'aria-pressed'), 'false');
      assert.ok((await width(UI.tileOf(bId))) > 0);
      await a.page.hover(UI.tileOf(bId));
      await a.page.click(`${UI.tileOf(bId)} .tile-tools .fullscreen`);
      await waitForBody(a, (id) => document.fullscreenElement?.dataset.peer === id, 5_000, 'the tile full screen', bId);
      await a.page.evaluate(() => document.exitFullscreen());
    });

    test('the speaking highlight follows the microphone that plays; a muted talker is told', { timeout: 90_000 }, async () => {
      const [a, b] = peers;
      await setMic(b, false);
      await waitForSpeaking(b, UI.tileOf(aId), true, 'a highlighted at b');
      await waitForSpeaking(a, UI.selfTile, true, 'a highlighted on its own tile');
      assert.notEqual(await a.page.getAttribute(UI.tileOf(bId), 'data-speaking'), 'true', 'muted b is not highlighted');
      await waitForBody(b, (selector) => !document.querySelector(selector).hidden, 15_000, 'the muted hint', UI.mutedHint);
      // The other way round.
      await setMic(a, false);
      await setMic(b, true);
      await waitForSpeaking(a, UI.tileOf(bId), true, 'b highlighted at a');
      await waitForSpeaking(b, UI.tileOf(aId), false, 'a no longer highlighted at b');
      await waitForBody(b, (selector) => document.querySelector(selector).hidden, 5_000, 'the muted hint gone', UI.mutedHint);
      await setMic(a, true);
    });

    test('the quality popover shows live figures of the line', { timeout: 60_000 }, async () => {
      const [, b] = peers;
      await waitForBody(b, (selector) => document.querySelector(selector)?.dataset.quality === 'good', 15_000, 'a good line', UI.tileOf(aId));
      await b.page.hover(UI.tileOf(aId));
      await b.page.click(UI.qualityButton(aId));
      assert.equal(await b.page.getAttribute(UI.qualityButton(aId), 'aria-expanded'), 'true');
      const read = async () => ({
        rtt: await b.page.textContent(UI.qualityValue(aId, 'Round trip')),
        receiving: await b.page.textContent(UI.qualityValue(aId, 'Receiving')),
        route: await b.page.textContent(UI.qualityValue(aId, 'Route')),
      });
      await waitForBody(b, (selector) => /\d/.test(document.querySelector(selector)?.textContent ?? ''), 10_000, 'a bitrate', UI.qualityValue(aId, 'Receiving'));
      const first = await read();
      assert.match(first.rtt, /^\d+ ms$/);
      assert.match(first.receiving, /^[\d.]+ (k|M)bit\/s$/);
      assert.match(first.route, /^Direct \((host|srflx|prflx)\/udp\)$/, 'a loopback call needs no relay');
      await waitForBody(b, ([selector, before]) => document.querySelector(selector)?.textContent !== before, 10_000,
        'the figures to move on', [UI.qualityValue(aId, 'Receiving'), first.receiving]);
      await b.page.keyboard.press('Escape');
      assert.equal(await b.page.locator(UI.qualityDetails(aId)).isVisible(), false, 'Escape closes the popover');
    });

    test('a file of a few MB arrives intact, with progress on both sides, and saves as a download', { timeout: 90_000 }, async () => {
      const [a, b] = peers;
      // Large enough that the transfer takes several progress reports over loopback.
      const bytes = randomBytes(16 * 1024 * 1024 + 1234);
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ux-file-'));
      const source = path.join(folder, 'notes.bin');
      fs.writeFileSync(source, bytes);
      await recordProgress(b, 'in');
      await recordProgress(a, 'out');
      await a.page.selectOption(UI.fileTo, bId);
      // The browser reads the file as it sends it: it stays until the end of the test.
      try {
        await a.page.setInputFiles(UI.fileInput, source);
        try {
          await waitForBody(b, (selector) => document.querySelector(selector) !== null, 60_000, 'the file saved', UI.transferSave);
        } catch (error) {
          const rows = async (peer) => peer.page.$$eval('#transfers li', (items) => items.map((item) => `${item.dataset.state}: ${item.textContent}`));
          throw new Error(`${error.message}\nsender: ${await rows(a)}\nreceiver: ${await rows(b)}\n${a.logs.slice(-20).join('\n')}`);
        }
        await waitForBody(a, (selector) => document.querySelector(selector)?.dataset.state === 'done', 15_000, 'the sender done', UI.transfer('out'));
        for (const [peer, side] of [[a, 'sender'], [b, 'receiver']]) {
          const progress = await peer.page.evaluate(() => window.__progress);
          assert.ok(progress.some((value) => value > 0 && value < 1), `the ${side} showed progress between 0 and 100 %: ${progress.slice(0, 20)}`);
          assert.equal(progress.at(-1), 1);
        }
        const [download] = await Promise.all([b.page.waitForEvent('download'), b.page.click(UI.transferSave)]);
        assert.equal(download.suggestedFilename(), 'notes.bin');
        const saved = await download.path();
        assert.equal(sha256(fs.readFileSync(saved)), sha256(bytes), 'the file arrived intact');
        assert.equal(b.page.url().includes('blob:'), false, 'the file was not opened in the page');
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    });

    test('a file over the limit is refused with a message; a transfer can be cancelled by the receiver', { timeout: 90_000 }, async () => {
      const [a, b] = peers;
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ux-files-'));
      try {
        const big = path.join(folder, 'too-big.bin');
        fs.writeFileSync(big, '');
        fs.truncateSync(big, 101 * 1024 * 1024);
        await a.page.setInputFiles(UI.fileInput, big);
        assert.match(await a.page.textContent(UI.fileNote), /^This file is 101 MB; files up to 100 MB can be sent\.$/);
        const large = path.join(folder, 'large.bin');
        fs.writeFileSync(large, '');
        fs.truncateSync(large, 90 * 1024 * 1024);
        await a.page.selectOption(UI.fileTo, '');
        const before = await b.page.locator(UI.transfer('in')).count();
        await a.page.setInputFiles(UI.fileInput, large);
        await waitForBody(b, ([selector, count]) => document.querySelectorAll(selector).length > count, 15_000, 'the incoming file', [UI.transfer('in'), before]);
        await b.page.locator(UI.transferCancel('in')).last().click();
        await waitForBody(a, (selector) => [...document.querySelectorAll(selector)].at(-1)?.dataset.state === 'cancelled', 15_000,
          'the sender told of the cancel', UI.transfer('out'));
        assert.equal(await b.page.locator(UI.transfer('in')).last().getAttribute('data-state'), 'cancelled');
        assert.equal(await b.page.locator(`${UI.transfer('in')}:last-child .transfer-save`).count(), 0, 'nothing to save');
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    });

    test('keyboard shortcuts work, but not while typing in the chat', { timeout: 60_000 }, async () => {
      const [a, b] = peers;
      await a.page.click('body', { position: { x: 5, y: 5 } });
      await a.page.keyboard.press('m');
      assert.equal(await pressed(a, UI.mic), true, 'M mutes');
      await waitForTile(b, aId, 'mic', 'off');
      await a.page.keyboard.press('m');
      assert.equal(await pressed(a, UI.mic), false, 'M unmutes');
      await a.page.keyboard.press('v');
      await waitForTile(b, aId, 'camera', 'off');
      await a.page.keyboard.press('v');
      await waitForTile(b, aId, 'camera', 'on');
      await a.page.fill(UI.chatInput, '');
      await a.page.type(UI.chatInput, 'mvc?');
      assert.equal(await a.page.inputValue(UI.chatInput), 'mvc?');
      assert.equal(await pressed(a, UI.mic), false, 'typing m in the chat does not mute');
      await a.page.click('body', { position: { x: 5, y: 5 } });
      const chatWasOpen = await pressed(a, UI.chatToggle);
      await a.page.keyboard.press('c');
      assert.equal(await pressed(a, UI.chatToggle), !chatWasOpen, 'C toggles the chat');
      await a.page.keyboard.press('c');
      // Opening the chat put the focus in its input, where ? is just a character.
      await a.page.click('body', { position: { x: 5, y: 5 } });
      await a.page.keyboard.press('?');
      await a.page.waitForSelector(UI.shortcutsDialog, { state: 'visible', timeout: 5_000 });
      assert.match(await a.page.textContent(UI.shortcutsDialog), /Leave the call/);
      await a.page.keyboard.press('Escape');
      await a.page.waitForSelector(UI.shortcutsDialog, { state: 'hidden', timeout: 5_000 });
      await a.page.keyboard.press('l');
      assert.equal(await a.page.locator(UI.ended).isVisible(), false, 'a lone L does not leave');
      await a.page.keyboard.press('Shift+L');
      await a.page.waitForSelector(UI.ended, { state: 'visible', timeout: 10_000 });
      await a.page.click(UI.rejoin);
      await waitForBody(a, (old) => ![undefined, '', old].includes(document.body.dataset.peer), 20_000, 'a new peer id', aId);
      [aId, bId] = await waitForMesh(peers);
    });
  });

  test('two, three and four people: each sender caps its video per peer as planned for the call\'s size', { timeout: 300_000 }, async () => {
    await inRoom('caps', async (room, peers) => {
      const figures = [];
      for (const name of ['a', 'b', 'c', 'd']) {
        peers.push(await joinAs(call.browser, call.server, room, name, name.toUpperCase()));
        if (peers.length < 2) continue;
        await waitForMesh(peers);
        // The plan is applied every 2 s; let the encoders settle on it.
        await peers[0].page.waitForTimeout(6000);
        // 2.5 Mbit/s split between the others, at most 1.5 Mbit/s each.
        const planned = Math.floor(Math.min(1_500_000, 2_500_000 / (peers.length - 1)));
        for (const peer of peers) {
          const sending = await videoSending(peer, 4);
          assert.equal(sending.length, peers.length - 1);
          for (const line of sending) {
            assert.equal(line.maxBitrate, planned, `${peer.name}'s cap in a ${peers.length}-person call`);
            assert.ok(line.bitrate <= planned * 1.15, `${peer.name} sends ${Math.round(line.bitrate)} bit/s under a cap of ${planned}`);
          }
          const total = sending.reduce((sum, line) => sum + line.bitrate, 0);
          figures.push(`${peers.length} people: ${peer.name} sends ${Math.round(total / 1000)} kbit/s of video in all `
            + `(${sending.map((line) => Math.round(line.bitrate / 1000)).join(' + ')}; cap ${planned / 1000} each)`);
        }
      }
      console.log(figures.join('\n'));
      // A slower line chosen in the device dialog lowers every cap at once.
      const [a] = peers;
      await a.page.click(UI.devices);
      await a.page.selectOption(UI.uplinkSelect, '1000000');
      await a.page.click(UI.devicesClose);
      const lowered = Math.floor(1_000_000 / (peers.length - 1));
      await waitForBody(a, (cap) => (window.__e2ePeerConnections || []).filter((pc) => pc.connectionState === 'connected')
        .every((pc) => pc.getSenders().find((sender) => sender.track?.kind === 'video')?.getParameters().encodings?.[0]?.maxBitrate === cap),
      5_000, `caps of ${lowered}`, lowered);
      assert.equal(await a.page.evaluate(() => localStorage.getItem('webrtc-cgi.uplink')), '1000000', 'the choice is remembered');
    });
  });

  test('accessibility: no axe-core violations, waiting and in a call, desktop and 360 px, and on the self-check page', { timeout: 180_000 }, async () => {
    await inRoom('axe', async (room, peers) => {
      const a = await joinAs(call.browser, call.server, room, 'a', 'Ada');
      peers.push(a);
      await a.page.waitForSelector(UI.waiting, { state: 'visible', timeout: 20_000 });
      await axeViolations(a, 'the waiting page');
      await a.page.setViewportSize(PHONE);
      await axeViolations(a, 'the waiting page at 360 px');
      await a.page.setViewportSize(DESKTOP);
      peers.push(await joinAs(call.browser, call.server, room, 'b', 'Bea'));
      const [, bId] = await waitForMesh(peers);
      await waitForName(a, bId, 'Bea');
      await axeViolations(a, 'a call');
      await a.page.click(UI.qualityButton(bId));
      await axeViolations(a, 'a call with the quality popover open');
      await a.page.keyboard.press('Escape');
      await a.page.click(UI.devices);
      await axeViolations(a, 'the device dialog');
      await a.page.click(UI.devicesClose);
      await a.page.keyboard.press('?');
      await axeViolations(a, 'the shortcut overlay');
      await a.page.keyboard.press('Escape');
      await a.page.setViewportSize(PHONE);
      if (!(await pressed(a, UI.chatToggle))) await a.page.click(UI.chatToggle);
      await axeViolations(a, 'a call at 360 px with the chat open');
      await closeChatPanel(a);
      await axeViolations(a, 'a call at 360 px');
      await a.page.click(UI.devices);
      await axeViolations(a, 'the device dialog at 360 px');
      await a.page.click(UI.devicesClose);
      // The controls fit a phone's width: nothing sticks out sideways.
      assert.ok(await a.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling at 360 px');
      await a.page.goto(`${call.server.url}?mode=check`);
      await a.page.waitForLoadState('load');
      await axeViolations(a, 'the self-check page');
    });
  });

  test('screenshots: three people with names, one speaking, one muted, the quality popover open', { timeout: 120_000 }, async () => {
    await inRoom('shots', async (room, peers) => {
      peers.push(await joinAs(call.browser, call.server, room, 'a', 'Ada'));
      peers.push(await joinAs(call.browser, call.server, room, 'b', 'Grace Hopper'));
      peers.push(await joinAs(call.browser, call.server, room, 'c', 'Alan'));
      const [, bId, cId] = await waitForMesh(peers);
      const [a, b, c] = peers;
      await setMic(a, false);
      await setMic(c, false);
      await waitForName(a, bId, 'Grace Hopper');
      await waitForName(a, cId, 'Alan');
      await waitForTile(a, cId, 'mic', 'off');
      await waitForSpeaking(a, UI.tileOf(bId), true, 'Grace highlighted');
      await sendChat(b, 'Morning both! Sending the slides now.');
      await waitForChat(a, 'Morning both! Sending the slides now.');
      await a.page.click(UI.qualityButton(bId));
      await waitForBody(a, (selector) => /\d/.test(document.querySelector(selector)?.textContent ?? ''), 10_000, 'figures', UI.qualityValue(bId, 'Round trip'));
      fs.mkdirSync(screenshots, { recursive: true });
      await a.page.screenshot({ path: path.join(screenshots, 'call-people.png') });
      await a.page.keyboard.press('Escape');
      await a.page.setViewportSize(PHONE);
      await closeChatPanel(a);
      await a.page.waitForTimeout(800);
      await a.page.click(UI.qualityButton(bId));
      await waitForSpeaking(a, UI.tileOf(bId), true, 'Grace highlighted');
      await a.page.screenshot({ path: path.join(screenshots, 'call-people-phone.png') });
      assert.ok(b && c);
    });
  });
});
