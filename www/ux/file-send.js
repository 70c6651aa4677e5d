// Sending files to one peer over its file channel: the offer, the file handed to the channel
// chunk by chunk with back-pressure (it waits for `bufferedamountlow` instead of queueing a
// whole file in the browser), and how an outgoing transfer ends (done only once the receiver
// confirms every byte). files.js passes it the receiver's notes about it.
'use strict';

import { CHUNK_BYTES, HIGH_WATER_BYTES, READ_BYTES, frame, newTransfer, sizeProblem, takeEnded } from './file-format.js';

/**
 * @typedef {import('./files.js').Transfer} Transfer
 * @typedef {import('./files.js').TransferState} TransferState
 * @typedef {import('./files.js').Link} Link
 */

/**
 * The outgoing transfers of one link.
 * @param {Link} link
 */
export function createOutgoing(link) {
  const { channel, sendNote, report } = link;
  let nextId = 1;
  /** @type {Map<number, {transfer: Transfer, settle: () => void, lastReport: number}>} */
  const outgoing = new Map();

  /**
   * @param {number} id
   * @param {TransferState} state
   * @param {string} reason
   */
  function end(id, state, reason) {
    const entry = takeEnded(outgoing, id, state, reason);
    if (!entry) return;
    if (state === 'done') entry.transfer.bytes = entry.transfer.size;
    report(entry, true);
    entry.settle();
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
      end(id, 'cancelled', 'You cancelled it.');
    });
    /** @type {(state: TransferState) => void} */
    let resolveFinished = () => {};
    const finished = new Promise((resolve) => {
      resolveFinished = resolve;
    });
    const entry = { transfer, settle: () => resolveFinished(transfer.state), lastReport: -Infinity };
    outgoing.set(id, entry);

    const problem = sizeProblem(file.size, link.maxBytes);
    if (problem) {
      end(id, 'refused', problem);
      return { transfer, finished };
    }
    if (link.closed() || !sendNote({ kind: 'file-offer', id, name: transfer.name, size: file.size })) {
      end(id, 'lost', 'The connection to this person is closed.');
      return { transfer, finished };
    }
    report(entry, true);
    pump(id, file).catch((error) => {
      console.warn('file send:', error);
      if (sendNote({ kind: 'file-cancel', id, by: 'sender' })) end(id, 'failed', 'The file could not be read.');
      else end(id, 'lost', 'The connection was lost during the transfer.');
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
          end(id, 'lost', 'The connection was lost during the transfer.');
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

  return { send, end, ids: () => [...outgoing.keys()], count: () => outgoing.size };
}

/**
 * Waits until the channel has room again (or is gone).
 * @param {import('./files.js').FileChannel} channel
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
