// Local media as the call sends it: the microphone and camera tracks with their on/off state
// (local-devices.js: one record per kind, so both go through the same code), the screen share (screen-share.js) that
// takes the camera's place while it lasts, the self view, and the notices about missing devices. It
// hands every change of an outgoing track to `sendTrack` and every change of state to
// `announce`; it never touches a connection or the DOM.
'use strict';

import { createDevices } from './local-devices.js';
import { classifyMediaError, describeMediaProblem, openLocalMedia, openTrack } from './media.js';
import { createScreenShare } from './screen-share.js';

/**
 * @typedef {{mic: boolean, camera: boolean, sharing: boolean}} MediaFlags
 * @typedef {'audio' | 'video'} Kind
 */

/**
 * @typedef {object} LocalMediaOptions
 * @property {boolean} secure window.isSecureContext
 * @property {MediaDevices | undefined} mediaDevices
 * @property {typeof MediaStream} MediaStream
 * @property {import('./call.js').CallView} view
 * @property {(kind: Kind, track: MediaStreamTrack | null) => Promise<void>} sendTrack
 * @property {(flags: MediaFlags) => void} announce Tells the peers the new state.
 */

/**
 * @param {LocalMediaOptions} options
 */
export function createLocalMedia(options) {
  const { view, mediaDevices } = options;
  // The stream the tracks are announced in (so a peer's ontrack groups them), kept apart from
  // the one the self view plays, which changes as devices come and go.
  const stream = new options.MediaStream();
  const selfView = new options.MediaStream();
  // While it lasts, the screen takes the camera's place in what is sent.
  const screen = createScreenShare(mediaDevices, async () => {
    await options.sendTrack('video', outgoing('video'));
    report();
  }, (text) => view.mediaNotice('screen', text));
  const devices = createDevices(() => screen.track());
  const { flags, outgoing } = devices;

  function report() {
    const video = outgoing('video');
    showOnly(selfView, video);
    view.localMedia(selfView, { ...flags(), hasAudio: Boolean(devices.track('audio')), hasVideo: Boolean(video) });
    options.announce(flags());
  }

  /** @param {import('./media.js').MediaProblem | null} problem */
  function notice(problem) {
    view.mediaNotice(problem, describeMediaProblem(problem, devices.present()));
  }

  /**
   * Opens a device that was missing at start (plugged in later, or allowed later).
   * @param {Kind} kind
   * @param {string} [deviceId]
   */
  async function enable(kind, deviceId) {
    if (!options.secure || !mediaDevices) {
      notice('insecure');
      return;
    }
    try {
      const track = await openTrack(mediaDevices, kind, deviceId);
      devices.opened(kind, track);
      if (outgoing(kind) === track) await options.sendTrack(kind, track);
      notice(null);
    } catch (error) {
      notice(classifyMediaError(error));
    }
    report();
  }

  return {
    stream,
    flags,
    outgoing,
    report,
    enable,
    stopShare: screen.stop,
    toggleShare: screen.toggle,

    /**
     * Starts opening camera and microphone (one permission prompt) and turns both on; the
     * answer goes to adopt(). Null where the page may not ask (not a secure context).
     * @returns {Promise<import('./media.js').LocalMedia> | null}
     */
    begin() {
      devices.turnOn();
      return options.secure ? openLocalMedia(mediaDevices) : null;
    },

    /**
     * Takes the tracks begin() opened and sends them; lets them go instead when the call
     * was hung up meanwhile.
     * @param {Promise<import('./media.js').LocalMedia> | null} pending
     * @param {() => boolean} stillWanted
     */
    async adopt(pending, stillWanted) {
      if (!pending) {
        notice('insecure');
      } else {
        const opened = await pending;
        if (!stillWanted()) {
          opened.audio?.stop();
          opened.video?.stop();
          return;
        }
        devices.take(opened.audio, opened.video);
        notice(opened.problem);
        await Promise.all([options.sendTrack('audio', outgoing('audio')), options.sendTrack('video', outgoing('video'))]);
      }
      report();
    },

    /**
     * Mutes or unmutes a kind; opens it when there is none yet. A disabled camera track sends
     * black frames and keeps the connection's shape unchanged; the state note tells the
     * others to show an avatar instead.
     * @param {Kind} kind
     */
    async toggle(kind) {
      if (!devices.flip(kind)) {
        await enable(kind);
        return;
      }
      report();
    },

    /**
     * Switches to another camera or microphone; a kind that was off stays off.
     * @param {Kind} kind
     * @param {string} deviceId
     */
    async choose(kind, deviceId) {
      const wasOn = devices.release(kind, deviceId);
      if (wasOn === null) return;
      await enable(kind, deviceId);
      if (!wasOn && devices.mute(kind)) report();
    },

    currentDeviceId: devices.deviceId,

    /** Stops every local track (hang-up). */
    stopAll() {
      devices.stopAll();
      screen.drop();
    },
  };
}

/**
 * Puts only `video` in the self view: playing one's own microphone would echo.
 * @param {MediaStream} selfView
 * @param {MediaStreamTrack | null} video
 */
function showOnly(selfView, video) {
  for (const track of selfView.getTracks()) if (track !== video) selfView.removeTrack(track);
  if (video && !selfView.getTracks().includes(video)) selfView.addTrack(video);
}
