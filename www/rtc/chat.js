// What peers say to each other over the data channel: chat lines and small status notes
// ("my microphone is muted"). It owns the wire format and its validation; everything that
// comes from a peer passes through parsePeerMessage before the rest of the client sees it.
'use strict';

/** Longer chat lines are cut; a data channel message should stay far below 16 KiB. */
export const CHAT_MAX_LENGTH = 2000;

/**
 * @typedef {{kind: 'chat', text: string}} ChatNote
 * @typedef {{kind: 'state', mic: boolean, camera: boolean, sharing: boolean}} StateNote
 * @typedef {ChatNote | StateNote} PeerNote
 */

/**
 * Cleans text typed by the user. Returns an empty string when nothing worth sending is left.
 * @param {string} text
 * @returns {string}
 */
export function cleanChatText(text) {
  return String(text).trim().slice(0, CHAT_MAX_LENGTH);
}

/**
 * @param {string} text
 * @returns {string}
 */
export function encodeChat(text) {
  return JSON.stringify({ kind: 'chat', text: cleanChatText(text) });
}

/**
 * @param {{mic: boolean, camera: boolean, sharing: boolean}} state
 * @returns {string}
 */
export function encodeState(state) {
  return JSON.stringify({
    kind: 'state',
    mic: Boolean(state.mic),
    camera: Boolean(state.camera),
    sharing: Boolean(state.sharing),
  });
}

/**
 * Reads a data channel message from a peer. Returns null for anything malformed.
 * @param {unknown} raw
 * @returns {PeerNote | null}
 */
export function parsePeerMessage(raw) {
  if (typeof raw !== 'string' || raw.length > 4 * CHAT_MAX_LENGTH) return null;
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (value.kind === 'chat' && typeof value.text === 'string') {
    const text = cleanChatText(value.text);
    return text ? { kind: 'chat', text } : null;
  }
  if (value.kind === 'state') {
    return {
      kind: 'state',
      mic: value.mic === true,
      camera: value.camera === true,
      sharing: value.sharing === true,
    };
  }
  return null;
}
