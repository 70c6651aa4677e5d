// The chat lines peers send each other over the data channel. It owns their wire format and
// its validation; every chat line from a peer passes through parsePeerMessage before the rest
// of the client sees it. The state notes on the same channel (name, microphone, camera) are
// ../ux/peer-state.js's.
'use strict';

/** Longer chat lines are cut; a data channel message should stay far below 16 KiB. */
export const CHAT_MAX_LENGTH = 2000;

/**
 * @typedef {{kind: 'chat', text: string}} ChatNote
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
 * Reads a chat line from a peer. Returns null for anything malformed or not a chat line.
 * @param {unknown} raw
 * @returns {ChatNote | null}
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
  return null;
}
