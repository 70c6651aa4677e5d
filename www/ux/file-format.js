// The parts of file transfer that are plain values: the limits and chunk sizes, a received
// file's cleaned name, the size sentence, byte counts in words, the wire format (binary
// frames: a 4-byte big-endian transfer id and up to CHUNK_BYTES of the file; text frames:
// JSON control notes, checked here), and a transfer's record. No channel, no timer: the
// link (files.js) and its two directions (file-send.js, file-receive.js) use these.
'use strict';

import { cleanName } from './display-name.js';

/** Files larger than this are refused on both sides: the receiver keeps a file in memory. */
export const MAX_FILE_BYTES = 100 * 1024 * 1024;

/** Every browser delivers a data channel message of this size; larger ones may be refused. */
export const CHUNK_BYTES = 16 * 1024;

/** The sender stops handing chunks to the channel while this much is still waiting in it. */
export const HIGH_WATER_BYTES = 1024 * 1024;

/** …and resumes when it has drained to this. */
export const LOW_WATER_BYTES = 256 * 1024;

/** The file is read this much at a time, so a large file is never in memory twice. */
export const READ_BYTES = 1024 * 1024;

/**
 * A file name safe to offer as a download: no folders, no control or direction characters,
 * a bounded length, and something left when nothing is.
 * @param {unknown} raw
 * @returns {string}
 */
export function cleanFileName(raw) {
  const base = typeof raw === 'string' ? raw.split(/[\\/]/).pop() ?? '' : '';
  const clean = cleanName(base, { maxGraphemes: 120 }).replace(/^\.+/, '');
  return clean || 'file';
}

/**
 * The sentence shown when a file cannot be sent because of its size, or null when it can.
 * @param {number} size
 * @param {number} [limit]
 * @returns {string | null}
 */
export function sizeProblem(size, limit = MAX_FILE_BYTES) {
  if (size > limit) return `This file is ${formatBytes(size)}; files up to ${formatBytes(limit)} can be sent.`;
  if (size === 0) return 'This file is empty.';
  return null;
}

/**
 * @param {number} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/**
 * A binary frame: the transfer id (4 bytes, big-endian), then the payload.
 * @param {number} id
 * @param {Uint8Array} payload
 * @returns {Uint8Array}
 */
export function frame(id, payload) {
  const bytes = new Uint8Array(4 + payload.byteLength);
  new DataView(bytes.buffer).setUint32(0, id);
  bytes.set(payload, 4);
  return bytes;
}

/**
 * A binary frame taken apart, or null for anything shorter than its id.
 * @param {unknown} data
 * @returns {{id: number, payload: Uint8Array} | null}
 */
export function unframe(data) {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  if (!bytes || bytes.byteLength < 4) return null;
  return { id: new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0), payload: bytes.subarray(4) };
}

/**
 * A control note, or null unless it is a short JSON object with a text `kind` and an id
 * that fits a frame's 4 bytes. Its other fields are the caller's to check.
 * @param {unknown} raw
 * @returns {{kind: string, id: number, name?: unknown, size?: unknown, by?: unknown} | null}
 */
export function parseNote(raw) {
  if (typeof raw !== 'string' || raw.length > 2048) return null;
  try {
    const value = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || typeof value.kind !== 'string') return null;
    if (!Number.isInteger(value.id) || value.id < 0 || value.id > 0xffffffff) return null;
    return value;
  } catch {
    return null;
  }
}

/**
 * A new transfer's record, as the page is shown it.
 * @param {number} id
 * @param {'out' | 'in'} direction
 * @param {unknown} name As given, cleaned here.
 * @param {number} size
 * @param {() => void} cancel
 * @returns {import('./files.js').Transfer}
 */
export function newTransfer(id, direction, name, size, cancel) {
  const state = direction === 'out' ? 'offered' : 'receiving';
  return { id, direction, name: cleanFileName(name), size, bytes: 0, state, reason: '', blob: null, cancel };
}

/**
 * Takes a transfer out of `table` as ended in `state` for `reason`.
 * @template {{transfer: import('./files.js').Transfer}} T
 * @param {Map<number, T>} table
 * @param {number} id
 * @param {import('./files.js').TransferState} state
 * @param {string} reason
 * @returns {T | null} null when it had ended already.
 */
export function takeEnded(table, id, state, reason) {
  const entry = table.get(id);
  if (!entry) return null;
  table.delete(id);
  Object.assign(entry.transfer, { state, reason });
  return entry;
}
