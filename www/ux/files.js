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
// transfer id followed by up to CHUNK_BYTES of the file (file-format.js). This module is the
// link: it routes the channel's messages to the sending side (file-send.js) and the
// receiving side (file-receive.js), and reports progress.
'use strict';

import { LOW_WATER_BYTES, MAX_FILE_BYTES, parseNote } from './file-format.js';
import { createIncoming } from './file-receive.js';
import { createOutgoing } from './file-send.js';

/** How often progress is reported while bytes flow, in milliseconds. */
const PROGRESS_INTERVAL_MS = 100;

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
 * What both directions of a file link share (files.js makes it).
 * @typedef {object} Link
 * @property {FileChannel} channel
 * @property {(note: object) => boolean} sendNote Sends a control note; false when it could not.
 * @property {(entry: {transfer: Transfer, lastReport: number}, force?: boolean) => void} report
 *   Tells the page about a transfer, at most every 100 ms unless forced.
 * @property {number} maxBytes
 * @property {() => boolean} closed Whether the channel has been lost.
 */

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
  const now = options.now ?? (() => Date.now());
  let closed = false;

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

  const link = { channel, sendNote, report, maxBytes: options.maxBytes ?? MAX_FILE_BYTES, closed: () => closed };
  const outgoing = createOutgoing(link);
  const incoming = createIncoming(link);

  /**
   * Takes one message of the channel.
   * @param {unknown} data
   */
  function receive(data) {
    if (typeof data !== 'string') {
      incoming.chunk(data);
      return;
    }
    const note = parseNote(data);
    if (!note) return;
    if (note.kind === 'file-offer') {
      incoming.offer(note);
    } else if (note.kind === 'file-end') {
      incoming.fileEnd(note);
    } else if (note.kind === 'file-done') {
      outgoing.end(note.id, 'done', '');
    } else if (note.kind === 'file-refuse') {
      outgoing.end(note.id, 'refused', 'The other side refused this file: it is too large.');
    } else if (note.kind === 'file-cancel') {
      // `by` says whose transfer it was: the sender cancels its own, the receiver one it gets.
      if (note.by === 'sender') incoming.end(note.id, 'cancelled', 'The sender cancelled it.');
      else if (note.by === 'receiver') outgoing.end(note.id, 'cancelled', 'The other side cancelled it.');
    }
  }

  /** The channel closed: every transfer still going ends, and partial files are dropped. */
  function lost() {
    closed = true;
    for (const id of outgoing.ids()) outgoing.end(id, 'lost', 'The connection was lost during the transfer.');
    for (const id of incoming.ids()) incoming.end(id, 'lost', 'The connection was lost during the transfer.');
  }

  return { send: outgoing.send, receive, lost, busy: () => outgoing.count() + incoming.count() > 0 };
}
