// The microphone and the camera as two records of the same shape ({track, on}), so both kinds
// go through one code path: what is on, a track taken or let go, muting (a disabled track,
// which keeps the connection's shape), the device a track came from, and the track sent for
// each kind (a shared screen takes the camera's place). It opens no device and sends
// nothing: local-media.js does that and reports the changes.
'use strict';

/**
 * @typedef {import('./local-media.js').Kind} Kind
 * @typedef {{track: MediaStreamTrack | null, on: boolean}} Device
 */

/**
 * Both kinds on, with no track yet.
 * @param {() => MediaStreamTrack | null} screenTrack The shared screen's track, if any.
 */
export function createDevices(screenTrack) {
  /** @type {Record<Kind, Device>} */
  const devices = { audio: { track: null, on: true }, video: { track: null, on: true } };

  return {
    /** @param {Kind} kind */
    track: (kind) => devices[kind].track,
    /**
     * The track sent as this kind: the screen takes the camera's place while shared.
     * @param {Kind} kind
     */
    outgoing: (kind) => (kind === 'video' ? screenTrack() ?? devices.video.track : devices.audio.track),
    /** @returns {import('./local-media.js').MediaFlags} What is on (and has a track). */
    flags: () => ({
      mic: Boolean(devices.audio.track) && devices.audio.on,
      camera: Boolean(devices.video.track) && devices.video.on,
      sharing: Boolean(screenTrack()),
    }),
    /** @returns {{audio: boolean, video: boolean}} Which kinds have a track. */
    present: () => ({ audio: Boolean(devices.audio.track), video: Boolean(devices.video.track) }),
    /** Both kinds on (a call starts). */
    turnOn() {
      devices.audio.on = true;
      devices.video.on = true;
    },
    /**
     * The tracks the start of a call opened (either may be missing); on and off stay.
     * @param {MediaStreamTrack | null} audio
     * @param {MediaStreamTrack | null} video
     */
    take(audio, video) {
      devices.audio.track = audio;
      devices.video.track = video;
    },
    /**
     * A device opened later: its track, on.
     * @param {Kind} kind
     * @param {MediaStreamTrack} track
     */
    opened(kind, track) {
      devices[kind] = { track, on: true };
    },
    /**
     * Turns a kind off, or on again.
     * @param {Kind} kind
     * @returns {boolean} false when it has no track to turn (the caller opens one).
     */
    flip(kind) {
      const device = devices[kind];
      if (!device.track) return false;
      device.on = !device.on;
      device.track.enabled = device.on;
      return true;
    },
    /**
     * Turns a kind off.
     * @param {Kind} kind
     * @returns {boolean} Whether it had a track to turn off.
     */
    mute(kind) {
      const device = devices[kind];
      if (!device.track) return false;
      device.on = false;
      device.track.enabled = false;
      return true;
    },
    /**
     * Lets a kind's track go before another device is opened for it. The track is stopped
     * first because phones cannot open two cameras at once.
     * @param {Kind} kind
     * @param {string} deviceId The device wanted next.
     * @returns {boolean | null} Whether the kind was on; null (nothing let go) when the track
     *   already comes from that device.
     */
    release(kind, deviceId) {
      const old = devices[kind];
      if (old.track?.getSettings?.().deviceId === deviceId) return null;
      old.track?.stop();
      devices[kind] = { track: null, on: old.on };
      return old.on;
    },
    /** @param {Kind} kind */
    deviceId: (kind) => devices[kind].track?.getSettings?.().deviceId ?? null,
    /** Stops both tracks and forgets them (hang-up). */
    stopAll() {
      for (const track of [devices.audio.track, devices.video.track]) track?.stop();
      devices.audio.track = null;
      devices.video.track = null;
    },
  };
}
