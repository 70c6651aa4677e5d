// The own microphone's level, for the speaker highlight on the own tile and the "you are
// muted" hint. A WebAudio analyser listens to a clone of the microphone track, so it still
// hears while the track that is sent is muted (disabled); it is read a few times a second,
// never per frame. It owns the clone and the AudioContext and lets both go in stop().
'use strict';

import { envelopeLevel } from '../ux/speaker.js';

/**
 * @param {{AudioContext: typeof AudioContext, MediaStream: typeof MediaStream}} browser
 * @param {MediaStreamTrack} track The microphone track being sent.
 * @param {number} windowMs The time between two reads: each read measures that much.
 */
export function createMicLevel(browser, track, windowMs) {
  const context = new browser.AudioContext();
  const clone = track.clone();
  clone.enabled = true;
  const source = context.createMediaStreamSource(new browser.MediaStream([clone]));
  const analyser = context.createAnalyser();
  // A power of two covering the read interval, so that a short sound between two reads is
  // still in the buffer when the next read comes.
  const wanted = (context.sampleRate * windowMs) / 1000;
  analyser.fftSize = Math.min(32768, 2 ** Math.ceil(Math.log2(Math.max(32, wanted))));
  source.connect(analyser);
  const buffer = new Float32Array(analyser.fftSize);
  const recent = Math.min(buffer.length, Math.round(wanted));

  return {
    /** @returns {number} the level (0 to 1) of the last `windowMs`. */
    level() {
      if (context.state !== 'running' || clone.readyState !== 'live') return 0;
      analyser.getFloatTimeDomainData(buffer);
      return envelopeLevel(buffer.subarray(buffer.length - recent), Math.round(context.sampleRate / 100));
    },
    /** Browsers start an AudioContext suspended until the person interacts with the page. */
    resume() {
      if (context.state === 'suspended') context.resume().catch(() => {});
    },
    stop() {
      source.disconnect();
      clone.stop();
      context.close().catch(() => {});
    },
  };
}

/**
 * A meter that follows whichever track is the microphone now (devices change during a call):
 * it starts a new analyser when the track changes and lets the old one go.
 * @param {{AudioContext?: typeof AudioContext, MediaStream: typeof MediaStream}} browser
 *   Without AudioContext the level is always 0.
 * @param {() => MediaStreamTrack | null} currentTrack
 * @param {number} windowMs
 */
export function followMicrophone(browser, currentTrack, windowMs) {
  /** @type {MediaStreamTrack | null} */
  let track = null;
  /** @type {ReturnType<typeof createMicLevel> | null} */
  let meter = null;
  return {
    level() {
      const now = currentTrack();
      if (now !== track) {
        meter?.stop();
        track = now;
        const AudioContextClass = browser.AudioContext;
        meter = now && AudioContextClass ? createMicLevel({ AudioContext: AudioContextClass, MediaStream: browser.MediaStream }, now, windowMs) : null;
      }
      return meter?.level() ?? 0;
    },
    resume: () => meter?.resume(),
    stop() {
      meter?.stop();
      meter = null;
      track = null;
    },
  };
}
