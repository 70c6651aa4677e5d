// The screen share: one screen track at a time, opened with the browser's picker and ended
// either here or by the browser's own "Stop sharing" button. It tells its owner each time the
// shared track appears or goes; what is sent instead is the owner's (local-media.js) choice.
'use strict';

import { classifyMediaError, describeScreenProblem, openScreen } from './media.js';

/**
 * @param {MediaDevices | undefined} mediaDevices
 * @param {() => Promise<void>} onChange Called after the shared track appeared or went.
 * @param {(text: string) => void} onFailure Called with the sentence for the user when the
 *   screen could not be shared for another reason than the user's refusal.
 */
export function createScreenShare(mediaDevices, onChange, onFailure) {
  /** @type {MediaStreamTrack | null} */
  let screenTrack = null;

  async function stop() {
    const track = screenTrack;
    if (!track) return;
    screenTrack = null;
    track.stop();
    await onChange();
  }

  return {
    stop,
    track: () => screenTrack,

    /** Starts sharing, or stops when already sharing. */
    async toggle() {
      if (screenTrack) {
        await stop();
        return;
      }
      if (!mediaDevices) return;
      let track;
      try {
        track = await openScreen(mediaDevices);
      } catch (error) {
        // Cancelling the browser's picker is a NotAllowedError too, and needs no message.
        const problem = classifyMediaError(error);
        if (problem !== 'denied') {
          console.warn('getDisplayMedia:', error);
          onFailure(describeScreenProblem(problem));
        }
        return;
      }
      screenTrack = track;
      // The browser's own "Stop sharing" button ends the track without asking this page.
      track.addEventListener('ended', () => {
        if (screenTrack === track) stop();
      });
      await onChange();
    },

    /** Ends the share without telling anyone (hang-up). */
    drop() {
      screenTrack?.stop();
      screenTrack = null;
    },
  };
}
