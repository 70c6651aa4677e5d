// The receiving half of a signaling route (route.js): it follows one remote route at a time,
// hands that route's numbered messages on in order, whichever way each came (the data
// channel or the server), and drops duplicates. A connection set up afresh by the other side
// brings a new route id; stragglers of the ids it replaced are dropped. Pure bookkeeping: no
// channel, no timer.
'use strict';

/** @typedef {import('./route.js').Envelope} Envelope */

/**
 * @param {(envelope: Envelope) => void} deliver Called with each message, in order, once.
 */
export function createReceiveOrder(deliver) {
  /** @type {string | null} */
  let remoteId = null;
  const retired = new Set();
  let expected = 1;
  /** Arrived ahead of a gap, by number. @type {Map<number, Envelope>} */
  const waiting = new Map();

  return {
    /**
     * Takes an envelope from the other end, by either path.
     * @param {Envelope} envelope
     * @returns {boolean} Whether it belongs to the remote route followed now.
     */
    take(envelope) {
      if (retired.has(envelope.r)) return false;
      if (envelope.r !== remoteId) {
        if (remoteId !== null) retired.add(remoteId);
        remoteId = envelope.r;
        expected = 1;
        waiting.clear();
      }
      if (envelope.s < expected) return true;
      waiting.set(envelope.s, envelope);
      for (let next = waiting.get(expected); next; next = waiting.get(expected)) {
        waiting.delete(expected);
        expected += 1;
        deliver(next);
      }
      return true;
    },
    /** The number up to which everything was handed on: what an acknowledgement confirms. */
    delivered: () => expected - 1,
    /** Whether anything waits for a gap to fill. */
    pending: () => waiting.size > 0,
    clear() {
      waiting.clear();
    },
  };
}
