// The state a participant tells the others about itself over the data channel: its name and
// whether its microphone, camera and screen share are on. It owns that message's wire format
// and its validation: a peer's note is believed about the peer itself only, and everything in
// it is checked and cleaned here before the page shows it. It does not send anything.
'use strict';

import { cleanName } from './display-name.js';

/** A state note is a few dozen bytes; anything far larger is not one. */
const MAX_NOTE_LENGTH = 2048;

/**
 * @typedef {object} PeerState
 * @property {string} name Cleaned; '' when the peer gave none.
 * @property {boolean} mic The microphone is on and unmuted.
 * @property {boolean} camera The camera is on.
 * @property {boolean} sharing The screen is being shared.
 */

/**
 * @param {Partial<PeerState>} state
 * @returns {string}
 */
export function encodePeerState(state) {
  return JSON.stringify({
    kind: 'state',
    name: cleanName(state.name ?? ''),
    mic: state.mic === true,
    camera: state.camera === true,
    sharing: state.sharing === true,
  });
}

/**
 * Reads a state note from a peer, or returns null when the message is not a well-formed one.
 * A flag that is not exactly `true` counts as off, so a garbled note never shows a muted peer
 * as live; a name that cleans down to nothing is ''.
 * @param {unknown} raw
 * @returns {PeerState | null}
 */
export function decodePeerState(raw) {
  if (typeof raw !== 'string' || raw.length > MAX_NOTE_LENGTH) return null;
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value.kind !== 'state') return null;
  if (value.name !== undefined && typeof value.name !== 'string') return null;
  return {
    name: cleanName(value.name ?? ''),
    mic: value.mic === true,
    camera: value.camera === true,
    sharing: value.sharing === true,
  };
}

/**
 * Whether two states differ in anything the page shows, so that an unchanged note (sent again
 * when a channel reopens) redraws nothing.
 * @param {PeerState | null} before
 * @param {PeerState} after
 * @returns {boolean}
 */
export function stateChanged(before, after) {
  return !before || before.name !== after.name || before.mic !== after.mic
    || before.camera !== after.camera || before.sharing !== after.sharing;
}
