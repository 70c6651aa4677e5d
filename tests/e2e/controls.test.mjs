// The call's controls, as the other side of the call sees them: audio flows, mute and camera
// off reach the other tile, a screen share replaces the camera and ends cleanly, the device
// dialog lists the devices, and hanging up removes the tile at the other side until the
// person rejoins.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { closePeers, launchBrowser } from './lib/browser.mjs';
import { joinCall, peerId, waitForBody, waitForMesh } from './lib/client.mjs';
import { roomName, startServer } from './lib/server.mjs';

/** Waits until `peer`'s tile of `otherId` has `attribute` equal to `value`. */
function waitForTile(peer, otherId, attribute, value) {
  return waitForBody(
    peer,
    ([id, name, expected]) => document.querySelector(`#tiles > figure.tile[data-peer="${id}"]`)?.dataset[name] === expected,
    15_000,
    `tile ${otherId} with ${attribute}=${value}`,
    [otherId, attribute, value],
  );
}

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
  let server;
  let browser;
  const peers = [];
  let aId;
  let bId;
  before(async () => {
    server = await startServer({ name: 'controls' });
    browser = await launchBrowser();
    const room = roomName('controls');
    peers.push(await joinCall(browser, server, room, { name: 'a' }));
    peers.push(await joinCall(browser, server, room, { name: 'b' }));
    [aId, bId] = await waitForMesh(peers);
  });
  after(async () => {
    await closePeers(peers);
    await browser?.close();
    server?.stop();
  });

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
    await a.page.click('#mic');
    assert.equal(await a.page.getAttribute('#mic', 'aria-pressed'), 'true');
    await waitForTile(b, aId, 'mic', 'off');
    await a.page.click('#mic');
    await waitForTile(b, aId, 'mic', 'on');
    await a.page.click('#camera');
    assert.equal(await a.page.getAttribute('#camera', 'aria-pressed'), 'true');
    await waitForTile(b, aId, 'camera', 'off');
    await a.page.click('#camera');
    await waitForTile(b, aId, 'camera', 'on');
  });

  test('a screen share replaces the camera at the other side and ends cleanly', { timeout: 60_000 }, async () => {
    const [a, b] = peers;
    await a.page.click('#share');
    await waitForBody(a, () => document.querySelector('#share').getAttribute('aria-pressed') === 'true', 15_000, 'sharing');
    await waitForTile(b, aId, 'sharing', 'true');
    await a.page.click('#share');
    await waitForTile(b, aId, 'sharing', 'false');
    await waitForTile(b, aId, 'camera', 'on');
  });

  test('the device dialog lists cameras and microphones', { timeout: 30_000 }, async () => {
    const [a] = peers;
    await a.page.click('#devices');
    await a.page.waitForSelector('#devices-dialog', { state: 'visible', timeout: 10_000 });
    assert.ok((await a.page.locator('#camera-select option').count()) >= 1, 'a camera to choose');
    assert.ok((await a.page.locator('#mic-select option').count()) >= 1, 'a microphone to choose');
    await a.page.keyboard.press('Escape');
  });

  test('hanging up removes the tile at the other side; rejoining connects again', { timeout: 90_000 }, async () => {
    const [a, b] = peers;
    await a.page.click('#hangup');
    await a.page.waitForSelector('#ended', { state: 'visible', timeout: 10_000 });
    await waitForBody(b, (id) => !document.querySelector(`#tiles > figure.tile[data-peer="${id}"]`), 15_000, 'the tile removed', aId);
    await a.page.click('#rejoin');
    await waitForBody(a, (old) => ![undefined, '', old].includes(document.body.dataset.peer), 20_000, 'a new peer id', aId);
    const [newA, sameB] = await waitForMesh(peers);
    assert.notEqual(newA, aId, 'the rejoin has a new peer id');
    assert.equal(sameB, bId);
    assert.equal(await peerId(a), newA);
  });
});
