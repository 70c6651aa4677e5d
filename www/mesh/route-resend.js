// The sending half of a signaling route (route.js): the messages sent over the data channel
// and not yet acknowledged, oldest first, and the timer that sends them again through the
// server when no acknowledgement comes in time. Everything unacknowledged goes in its
// original order; the other end drops whatever of it the channel did deliver after all. It
// never sends on the channel itself.
'use strict';

/** @typedef {import('./route.js').Envelope} Envelope */

/**
 * @param {object} options
 * @param {(envelope: Envelope) => void} options.resend Sends one envelope through the server.
 * @param {import('../timers.js').Timers} options.timers
 * @param {number} options.ackTimeoutMs
 */
export function createResendQueue({ resend, timers, ackTimeoutMs }) {
  /** Sent over the channel, not yet acknowledged, oldest first. @type {Envelope[]} */
  let unacked = [];
  /** @type {unknown} */
  let ackTimer = null;

  function stopAckTimer() {
    if (ackTimer !== null) timers.clearTimeout(ackTimer);
    ackTimer = null;
  }

  function armAckTimer() {
    if (ackTimer !== null || unacked.length === 0) return;
    ackTimer = timers.setTimeout(() => {
      ackTimer = null;
      resendAll();
    }, ackTimeoutMs);
  }

  /** Sends everything unacknowledged through the server, in order, and forgets it. */
  function resendAll() {
    stopAckTimer();
    const waiting = unacked;
    unacked = [];
    for (const envelope of waiting) resend(envelope);
  }

  return {
    /** @param {Envelope} envelope Just sent over the channel. */
    sent(envelope) {
      unacked.push(envelope);
      armAckTimer();
    },
    /** @param {number} upTo The other end has everything up to this number. */
    acknowledged(upTo) {
      unacked = unacked.filter((envelope) => envelope.s > upTo);
      stopAckTimer();
      armAckTimer();
    },
    resendAll,
    pending: () => unacked.length > 0,
    close() {
      stopAckTimer();
      unacked = [];
    },
  };
}
