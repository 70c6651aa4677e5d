// The call's controls, as the other side of the call sees them: audio flows, mute and camera
// off reach the other tile, a screen share replaces the camera and ends cleanly, the device
// dialog lists the devices, and hanging up removes the tile at the other side until the
// person rejoins.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { closePeers } from './lib/browser.mjs';
import {
  joinCall, peerId, pressed, UI, waitForBody, waitForMesh, waitForTile, waitForTileGone,
} from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { roomName } from './lib/server.mjs';

/** Audio packets received by the page on all its connections. */
function audioPacketsReceived(peer) {
  return peer.page.evaluate(async () => {
    let packets = 0;
    for (const pc of window.__e2ePeerConnections || []) {
      for (const report of (await pc.getStats()).values()) {
        if (report.type === 'inbound-rtp' && report.kind === 'audio') packets += report.packetsReceived ?? 0;
      }
    }
    return packets;
  });
}

describe('the controls of a call', () => {
  const call = serverAndBrowser({ name: 'controls' });
  const peers = [];
  let aId;
  let bId;
  before(async () => {
    const room = roomName('controls');
    peers.push(await joinCall(call.browser, call.server, room, { name: 'a' }));
    peers.push(await joinCall(call.browser, call.server, room, { name: 'b' }));
    [aId, bId] = await waitForMesh(peers);
  });
  after(() => closePeers(peers));

  test('each hears the other: audio packets keep arriving', { timeout: 30_000 }, async () => {
    const [a, b] = peers;
    const first = await audioPacketsReceived(b);
    await a.page.waitForTimeout(1000);
    const later = await audioPacketsReceived(b);
    assert.ok(later > first, `audio from a reaches b (${first} then ${later} packets)`);
    assert.ok((await audioPacketsReceived(a)) > 0, 'audio from b reaches a');
  });

  test('mute and camera off show at the other side, and come back', { timeout: 60_000 }, async () => {
    const [a, b] = peers;
    await a.page.click(UI.mic);
    assert.equal(await pressed(a, UI.mic), true);
    await waitForTile(b, aId, 'mic', 'off');
    await a.page.click(UI.mic);
    await waitForTile(b, aId, 'mic', 'on');
    await a.page.click(UI.camera);
    assert.equal(await pressed(a, UI.camera), true);
    await waitForTile(b, aId, 'camera', 'off');
    await a.page.click(UI.camera);
    await waitForTile(b, aId, 'camera', 'on');
  });

  test('a screen share replaces the camera at the other side and ends cleanly', { timeout: 60_000 }, async () => {
    const [a, b] = peers;
    await a.page.click(UI.share);
    await waitForBody(a, (selector) => document.querySelector(selector).getAttribute('aria-pressed') === 'true', 15_000, 'sharing', UI.share);
    await waitForTile(b, aId, 'sharing', 'true');
    await a.page.click(UI.share);
    await waitForTile(b, aId, 'sharing', 'false');
    await waitForTile(b, aId, 'camera', 'on');
  });

  test('the device dialog lists cameras and microphones', { timeout: 30_000 }, async () => {
    const [a] = peers;
    await a.page.click(UI.devices);
    await a.page.waitForSelector(UI.devicesDialog, { state: 'visible', timeout: 10_000 });
    assert.ok((await a.page.locator(UI.cameraOption).count()) >= 1, 'a camera to choose');
    assert.ok((await a.page.locator(UI.micOption).count()) >= 1, 'a microphone to choose');
    await a.page.keyboard.press('Escape');
  });

  test('hanging up removes the tile at the other side; rejoining connects again', { timeout: 90_000 }, async () => {
    const [a, b] = peers;
    await a.page.click(UI.hangup);
    await a.page.waitForSelector(UI.ended, { state: 'visible', timeout: 10_000 });
    await waitForTileGone(b, aId, 15_000);
    await a.page.click(UI.rejoin);
    await waitForBody(a, (old) => ![undefined, '', old].includes(document.body.dataset.peer), 20_000, 'a new peer id', aId);
    const [newA, sameB] = await waitForMesh(peers);
    assert.notEqual(newA, aId, 'the rejoin has a new peer id');
    assert.equal(sameB, bId);
    assert.equal(await peerId(a), newA);
  });
});
