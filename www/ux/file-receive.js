// Receiving files from one peer over its file channel: an offer taken or refused for its
// size, the chunks put together with their checks (never more bytes than offered, every byte
// before 'file-end'), and how an incoming transfer ends. A finished file is a Blob typed
// application/octet-stream, never opened or rendered here. files.js routes the notes.
'use strict';

import { newTransfer, takeEnded, unframe } from './file-format.js';

/**
 * @typedef {import('./files.js').Transfer} Transfer
 * @typedef {import('./files.js').TransferState} TransferState
 * @typedef {import('./files.js').Link} Link
 */

/**
 * The incoming transfers of one link.
 * @param {Link} link
 */
export function createIncoming(link) {
  const { sendNote, report } = link;
  /** @type {Map<number, {transfer: Transfer, chunks: Uint8Array[], lastReport: number}>} */
  const incoming = new Map();

  /**
   * @param {number} id
   * @param {TransferState} state
   * @param {string} reason
   */
  function end(id, state, reason) {
    const entry = takeEnded(incoming, id, state, reason);
    if (!entry) return;
    if (state === 'done') entry.transfer.blob = new Blob(entry.chunks, { type: 'application/octet-stream' });
    entry.chunks = [];
    report(entry, true);
  }

  /**
   * Takes one binary message of the channel: a chunk of a file on its way in.
   * @param {unknown} data
   */
  function chunk(data) {
    const piece = unframe(data);
    // Chunks of a transfer already ended (cancelled, refused) may still be on their way.
    const entry = piece ? incoming.get(piece.id) : undefined;
    if (!piece || !entry) return;
    entry.transfer.bytes += piece.payload.byteLength;
    if (entry.transfer.bytes > entry.transfer.size) {
      sendNote({ kind: 'file-cancel', id: piece.id, by: 'receiver' });
      end(piece.id, 'failed', 'More data arrived than the file holds.');
      return;
    }
    // The chunk is copied: the channel may reuse the buffer it arrived in.
    entry.chunks.push(piece.payload.slice());
    report(entry);
  }

  /**
   * The sender's 'file-end': the file is whole if every byte came.
   * @param {{id: number}} note
   */
  function fileEnd(note) {
    const entry = incoming.get(note.id);
    if (!entry) return;
    if (entry.transfer.bytes !== entry.transfer.size) {
      sendNote({ kind: 'file-cancel', id: note.id, by: 'receiver' });
      end(note.id, 'failed', 'The file arrived incomplete.');
      return;
    }
    sendNote({ kind: 'file-done', id: note.id });
    end(note.id, 'done', '');
  }

  /** @param {{id: number, name?: unknown, size?: unknown}} note */
  function offer(note) {
    const { id } = note;
    if (incoming.has(id)) return;
    const size = Number.isSafeInteger(note.size) ? Number(note.size) : -1;
    if (size <= 0 || size > link.maxBytes) {
      sendNote({ kind: 'file-refuse', id });
      return;
    }
    const transfer = newTransfer(id, 'in', note.name, size, () => {
      if (!incoming.has(id)) return;
      sendNote({ kind: 'file-cancel', id, by: 'receiver' });
      end(id, 'cancelled', 'You cancelled it.');
    });
    const entry = { transfer, chunks: /** @type {Uint8Array[]} */ ([]), lastReport: -Infinity };
    incoming.set(id, entry);
    report(entry, true);
  }

  return { chunk, offer, fileEnd, end, ids: () => [...incoming.keys()], count: () => incoming.size };
}
