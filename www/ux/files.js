// Files sent to a peer over a data channel of their own, without the server: the wire format,
// chunking with back-pressure (the sender waits for `bufferedamountlow` instead of queueing a
// whole file in the browser), reassembly with its checks, the size limit, cancelling from
// either side, and what a transfer becomes when the channel is lost half way. One link per
// peer carries any number of transfers both ways. It never opens or renders a received file:
// it hands over a Blob typed application/octet-stream and a cleaned file name, to be offered
// as a download. The channel is passed in, so all of it is tested without a browser.
//
// On the channel: text frames are JSON control notes ({kind: 'file-offer' | 'file-end' |
// 'file-done' | 'file-cancel' | 'file-refuse', id, ...}); binary frames are a 4-byte big-endian
// transfer id followed by up to CHUNK_BYTES of the file.
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

/** How often progress is reported while bytes flow, in milliseconds. */
const PROGRESS_INTERVAL_MS = 100;

/** The file is read this much at a time, so a large file is never in memory twice. */
const READ_BYTES = 1024 * 1024;

/**
 * @typedef {'offered' | 'sending' | 'receiving' | 'done' | 'cancelled' | 'refused' | 'lost' | 'failed'} TransferState
 */

/**
 * What the page shows of one transfer, in either direction.
 * @typedef {object} Transfer
 * @property {number} id The sender's number for it.
 * @property {'out' | 'in'} direction
 * @property {string} name Cleaned, safe as a download name.
 * @property {number} size Bytes.
 * @property {number} bytes Delivered so far (sent and drained from the channel, or received).
 * @property {TransferState} state
 * @property {string} reason Why it ended early, in words; '' otherwise.
 * @property {Blob | null} blob The received file, once state is 'done'.
 * @property {() => void} cancel
 */

/**
 * The minimal data channel this needs (RTCDataChannel has all of it).
 * @typedef {object} FileChannel
 * @property {(data: string | ArrayBuffer | ArrayBufferView) => void} send
 * @property {number} bufferedAmount
 * @property {number} bufferedAmountLowThreshold
 * @property {string} readyState
 * @property {(type: string, listener: () => void) => void} addEventListener
 * @property {(type: string, listener: () => void) => void} removeEventListener
 */

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
 * @param {number} id
 * @param {Uint8Array} payload
 * @returns {Uint8Array}
 */
function frame(id, payload) {
  const bytes = new Uint8Array(4 + payload.byteLength);
  new DataView(bytes.buffer).setUint32(0, id);
  bytes.set(payload, 4);
  return bytes;
}

/**
 * @param {unknown} data
 * @returns {{id: number, payload: Uint8Array} | null}
 */
function unframe(data) {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  if (!bytes || bytes.byteLength < 4) return null;
  return { id: new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0), payload: bytes.subarray(4) };
}

/**
 * @param {unknown} raw
 * @returns {{kind: string, id: number, name?: unknown, size?: unknown} | null}
 */
function parseNote(raw) {
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
 * Waits until the channel has room again (or is gone).
 * @param {FileChannel} channel
 * @returns {Promise<void>}
 */
function drained(channel) {
  return new Promise((resolve) => {
    const done = () => {
      channel.removeEventListener('bufferedamountlow', done);
      channel.removeEventListener('close', done);
      resolve();
    };
    channel.addEventListener('bufferedamountlow', done);
    channel.addEventListener('close', done);
    // The event may have fired between the caller's check and now.
    if (channel.bufferedAmount <= channel.bufferedAmountLowThreshold || channel.readyState !== 'open') done();
  });
}

/**
 * @param {number} id
 * @param {'out' | 'in'} direction
 * @param {unknown} name As given, cleaned here.
 * @param {number} size
 * @param {() => void} cancel
 * @returns {Transfer}
 */
function newTransfer(id, direction, name, size, cancel) {
  const state = direction === 'out' ? 'offered' : 'receiving';
  return { id, direction, name: cleanFileName(name), size, bytes: 0, state, reason: '', blob: null, cancel };
}

/**
 * @typedef {object} FileLinkOptions
 * @property {(transfer: Transfer) => void} onUpdate Called for a new transfer, on progress
 *   (at most every 100 ms) and when one ends, for both directions.
 * @property {number} [maxBytes]
 * @property {() => number} [now]
 */

/**
 * The file transfers over one channel to one peer. The caller feeds it every message of the
 * channel (`receive`) and tells it when the channel has closed (`lost`).
 * @param {FileChannel} channel
 * @param {FileLinkOptions} options
 */
export function createFileLink(channel, options) {
  const maxBytes = options.maxBytes ?? MAX_FILE_BYTES;
  const now = options.now ?? (() => Date.now());
  let nextId = 1;
  let closed = false;
  /** @type {Map<number, {transfer: Transfer, settle: () => void, lastReport: number}>} */
  const outgoing = new Map();
  /** @type {Map<number, {transfer: Transfer, chunks: Uint8Array[], lastReport: number}>} */
  const incoming = new Map();

  channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;

  /** @param {object} note */
  function sendNote(note) {
    if (channel.readyState !== 'open') return false;
    try {
      channel.send(JSON.stringify(note));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * @param {{transfer: Transfer, lastReport: number}} entry
   * @param {boolean} [force]
   */
  function report(entry, force = false) {
    const time = now();
    if (!force && time - entry.lastReport < PROGRESS_INTERVAL_MS) return;
    entry.lastReport = time;
    options.onUpdate({ ...entry.transfer });
  }

  /**
   * Takes a transfer out of `table` as ended in `state` for `reason`.
   * @template {{transfer: Transfer}} T
   * @param {Map<number, T>} table
   * @param {number} id
   * @param {TransferState} state
   * @param {string} reason
   * @returns {T | null} null when it had ended already.
   */
  function takeEnded(table, id, state, reason) {
    const entry = table.get(id);
    if (!entry) return null;
    table.delete(id);
    Object.assign(entry.transfer, { state, reason });
    return entry;
  }

  /**
   * @param {number} id
   * @param {TransferState} state
   * @param {string} reason
   */
  function endOutgoing(id, state, reason) {
    const entry = takeEnded(outgoing, id, state, reason);
    if (!entry) return;
    if (state === 'done') entry.transfer.bytes = entry.transfer.size;
    report(entry, true);
    entry.settle();
  }

  /**
   * @param {number} id
   * @param {TransferState} state
   * @param {string} reason
   */
  function endIncoming(id, state, reason) {
    const entry = takeEnded(incoming, id, state, reason);
    if (!entry) return;
    if (state === 'done') entry.transfer.blob = new Blob(entry.chunks, { type: 'application/octet-stream' });
    entry.chunks = [];
    report(entry, true);
  }

  /**
   * Sends a file (a Blob or File) to the peer.
   * @param {{size: number, name?: string, slice: (start: number, end: number) => {arrayBuffer: () => Promise<ArrayBuffer>}}} file
   * @returns {{transfer: Transfer, finished: Promise<TransferState>}}
   */
  function send(file) {
    const id = nextId;
    nextId += 1;
    const transfer = newTransfer(id, 'out', file.name, file.size, () => {
      if (!outgoing.has(id)) return;
      sendNote({ kind: 'file-cancel', id, by: 'sender' });
      endOutgoing(id, 'cancelled', 'You cancelled it.');
    });
    /** @type {(state: TransferState) => void} */
    let resolveFinished = () => {};
    const finished = new Promise((resolve) => {
      resolveFinished = resolve;
    });
    const entry = { transfer, settle: () => resolveFinished(transfer.state), lastReport: -Infinity };
    outgoing.set(id, entry);

    const problem = sizeProblem(file.size, maxBytes);
    if (problem) {
      endOutgoing(id, 'refused', problem);
      return { transfer, finished };
    }
    if (closed || !sendNote({ kind: 'file-offer', id, name: transfer.name, size: file.size })) {
      endOutgoing(id, 'lost', 'The connection to this person is closed.');
      return { transfer, finished };
    }
    report(entry, true);
    pump(id, file).catch((error) => {
      console.warn('file send:', error);
      if (sendNote({ kind: 'file-cancel', id, by: 'sender' })) endOutgoing(id, 'failed', 'The file could not be read.');
      else endOutgoing(id, 'lost', 'The connection was lost during the transfer.');
    });
    return { transfer, finished };
  }

  /**
   * Hands the file to the channel chunk by chunk, never letting more than HIGH_WATER_BYTES
   * wait in it; stops as soon as the transfer is no longer going.
   * @param {number} id
   * @param {{size: number, slice: (start: number, end: number) => {arrayBuffer: () => Promise<ArrayBuffer>}}} file
   */
  async function pump(id, file) {
    const entry = outgoing.get(id);
    if (!entry) return;
    entry.transfer.state = 'sending';
    let offset = 0;
    while (offset < file.size) {
      const block = new Uint8Array(await file.slice(offset, Math.min(file.size, offset + READ_BYTES)).arrayBuffer());
      for (let start = 0; start < block.byteLength; start += CHUNK_BYTES) {
        while (outgoing.has(id) && channel.readyState === 'open' && channel.bufferedAmount > HIGH_WATER_BYTES) {
          await drained(channel);
        }
        if (!outgoing.has(id)) return;
        if (channel.readyState !== 'open') {
          endOutgoing(id, 'lost', 'The connection was lost during the transfer.');
          return;
        }
        channel.send(frame(id, block.subarray(start, Math.min(block.byteLength, start + CHUNK_BYTES))));
        entry.transfer.bytes = Math.max(0, offset + Math.min(block.byteLength, start + CHUNK_BYTES) - channel.bufferedAmount);
        report(entry);
      }
      offset += block.byteLength;
    }
    // Done only when the receiver confirms it has every byte ('file-done').
    if (outgoing.has(id)) sendNote({ kind: 'file-end', id });
  }

  /**
   * Takes one message of the channel.
   * @param {unknown} data
   */
  function receive(data) {
    if (typeof data !== 'string') {
      const chunk = unframe(data);
      // Chunks of a transfer already ended (cancelled, refused) may still be on their way.
      const entry = chunk ? incoming.get(chunk.id) : undefined;
      if (!chunk || !entry) return;
      entry.transfer.bytes += chunk.payload.byteLength;
      if (entry.transfer.bytes > entry.transfer.size) {
        sendNote({ kind: 'file-cancel', id: chunk.id, by: 'receiver' });
        endIncoming(chunk.id, 'failed', 'More data arrived than the file holds.');
        return;
      }
      // The chunk is copied: the channel may reuse the buffer it arrived in.
      entry.chunks.push(chunk.payload.slice());
      report(entry);
      return;
    }
    const note = parseNote(data);
    if (!note) return;
    if (note.kind === 'file-offer') {
      receiveOffer(note);
    } else if (note.kind === 'file-end') {
      const entry = incoming.get(note.id);
      if (!entry) return;
      if (entry.transfer.bytes !== entry.transfer.size) {
        sendNote({ kind: 'file-cancel', id: note.id, by: 'receiver' });
        endIncoming(note.id, 'failed', 'The file arrived incomplete.');
        return;
      }
      sendNote({ kind: 'file-done', id: note.id });
      endIncoming(note.id, 'done', '');
    } else if (note.kind === 'file-done') {
      endOutgoing(note.id, 'done', '');
    } else if (note.kind === 'file-refuse') {
      endOutgoing(note.id, 'refused', 'The other side refused this file: it is too large.');
    } else if (note.kind === 'file-cancel') {
      // `by` says whose transfer it was: the sender cancels its own, the receiver one it gets.
      if (note.by === 'sender') endIncoming(note.id, 'cancelled', 'The sender cancelled it.');
      else if (note.by === 'receiver') endOutgoing(note.id, 'cancelled', 'The other side cancelled it.');
    }
  }

  /** @param {{id: number, name?: unknown, size?: unknown}} note */
  function receiveOffer(note) {
    const { id } = note;
    if (incoming.has(id)) return;
    const size = Number.isSafeInteger(note.size) ? Number(note.size) : -1;
    if (size <= 0 || size > maxBytes) {
      sendNote({ kind: 'file-refuse', id });
      return;
    }
    const transfer = newTransfer(id, 'in', note.name, size, () => {
      if (!incoming.has(id)) return;
      sendNote({ kind: 'file-cancel', id, by: 'receiver' });
      endIncoming(id, 'cancelled', 'You cancelled it.');
    });
    const entry = { transfer, chunks: /** @type {Uint8Array[]} */ ([]), lastReport: -Infinity };
    incoming.set(id, entry);
    report(entry, true);
  }

  /** The channel closed: every transfer still going ends, and partial files are dropped. */
  function lost() {
    closed = true;
    for (const id of [...outgoing.keys()]) endOutgoing(id, 'lost', 'The connection was lost during the transfer.');
    for (const id of [...incoming.keys()]) endIncoming(id, 'lost', 'The connection was lost during the transfer.');
  }

  return { send, receive, lost, busy: () => outgoing.size + incoming.size > 0 };
}
