// The microphone and camera records (www/rtc/local-devices.js): one code path for both kinds,
// muting by a disabled track, a device switch that lets the old track go first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevices } from '../../www/rtc/local-devices.js';

/** A track double: enabled, stopped, and the device it came from. */
function fakeTrack(deviceId) {
  return { enabled: true, stopped: false, stop() { this.stopped = true; }, getSettings: () => ({ deviceId }) };
}

test('devices: nothing is on without a track, and a kind without one cannot be turned', () => {
  const devices = createDevices(() => null);
  assert.deepEqual(devices.flags(), { mic: false, camera: false, sharing: false });
  assert.deepEqual(devices.present(), { audio: false, video: false });
  assert.equal(devices.flip('audio'), false);
  assert.equal(devices.mute('video'), false);
  assert.equal(devices.deviceId('video'), null);
});

test('devices: both kinds turn off and on the same way, by a disabled track', () => {
  const devices = createDevices(() => null);
  const mic = fakeTrack('mic1');
  const camera = fakeTrack('cam1');
  devices.take(mic, camera);
  assert.deepEqual(devices.flags(), { mic: true, camera: true, sharing: false });
  for (const [kind, track, flag] of [['audio', mic, 'mic'], ['video', camera, 'camera']]) {
    assert.equal(devices.flip(kind), true);
    assert.equal(track.enabled, false);
    assert.equal(devices.flags()[flag], false);
    assert.equal(track.stopped, false, 'muting keeps the track');
    devices.flip(kind);
    assert.equal(track.enabled, true);
    assert.equal(devices.flags()[flag], true);
  }
  assert.equal(devices.mute('audio'), true);
  assert.deepEqual(devices.flags(), { mic: false, camera: true, sharing: false });
});

test('devices: a switch stops the old track first and remembers whether the kind was on', () => {
  const devices = createDevices(() => null);
  const camera = fakeTrack('cam1');
  devices.take(null, camera);
  assert.equal(devices.release('video', 'cam1'), null, 'the same device is no switch');
  assert.equal(camera.stopped, false);
  devices.mute('video');
  assert.equal(devices.release('video', 'cam2'), false, 'it was off');
  assert.equal(camera.stopped, true);
  assert.equal(devices.track('video'), null);
  const next = fakeTrack('cam2');
  devices.opened('video', next);
  assert.equal(devices.deviceId('video'), 'cam2');
  assert.equal(devices.flags().camera, true, 'a device opened later starts on');
});

test('devices: a new call turns both on; hang-up stops and forgets both tracks', () => {
  const devices = createDevices(() => null);
  const mic = fakeTrack('mic1');
  const camera = fakeTrack('cam1');
  devices.take(mic, camera);
  devices.mute('audio');
  devices.mute('video');
  devices.stopAll();
  assert.deepEqual([mic.stopped, camera.stopped], [true, true]);
  assert.deepEqual(devices.present(), { audio: false, video: false });
  devices.turnOn();
  devices.take(fakeTrack('mic1'), null);
  assert.deepEqual(devices.flags(), { mic: true, camera: false, sharing: false });
});

test('devices: a shared screen is sent in the camera\'s place while it lasts', () => {
  let screen = null;
  const devices = createDevices(() => screen);
  const mic = fakeTrack('mic1');
  const camera = fakeTrack('cam1');
  devices.take(mic, camera);
  assert.equal(devices.outgoing('video'), camera);
  screen = fakeTrack('screen');
  assert.equal(devices.outgoing('video'), screen);
  assert.equal(devices.outgoing('audio'), mic);
  assert.deepEqual(devices.flags(), { mic: true, camera: true, sharing: true });
  screen = null;
  assert.equal(devices.outgoing('video'), camera);
});
