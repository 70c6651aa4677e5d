// Loud or quiet: whether this peer needs a held event stream. A peer linked to everyone over
// open data channels, with nothing pending, that is not the doorkeeper, needs the server only
// for presence and for what is addressed to it while a newcomer arrives: it closes its stream
// and polls with hold=0 every quiet_poll_seconds. A newcomer, a failed connection, a gap in a
// route, or the doorkeeper role make it loud again at once; it goes quiet only after the
// conditions held for a moment, so a connection that flaps does not open and close streams.
// It owns the decision and its timing; the transport does the streaming and the polling.
'use strict';

import { realTimers } from '../timers.js';

/**
 * What the decision looks at, read afresh at each update.
 * @typedef {object} QuietSnapshot
 * @property {boolean} capable Data channels exist in this browser and the host streams held
 *   responses (on a host that buffers, the adaptive polling path stays as it is).
 * @property {boolean} doorkeeper
 * @property {boolean} busy Something of this peer's own is under way (POSTs queued, joining).
 * @property {{linked: boolean, pending: boolean}[]} peers One entry per remote peer.
 */

/**
 * @param {QuietSnapshot} snapshot
 * @returns {boolean}
 */
export function wantsQuiet(snapshot) {
  if (!snapshot.capable || snapshot.doorkeeper || snapshot.busy) return false;
  // Alone in a room, this peer is the one who must hear the next join at once.
  if (snapshot.peers.length === 0) return false;
  return snapshot.peers.every((peer) => peer.linked && !peer.pending);
}

/**
 * @typedef {'loud' | 'quiet'} Loudness
 */

/**
 * @typedef {object} QuietOptions
 * @property {() => QuietSnapshot} read
 * @property {(mode: Loudness) => void} apply Called on every change of mode.
 * @property {number} [settleMs] How long the quiet conditions must hold before going quiet.
 * @property {import('../timers.js').Timers} [timers]
 */

/**
 * @typedef {object} Quietness
 * @property {() => void} update Call whenever something in the snapshot may have changed.
 * @property {() => Loudness} mode
 * @property {() => void} close Stops the timer; the mode stays as it is.
 */

/**
 * Starts loud.
 * @param {QuietOptions} options
 * @returns {Quietness}
 */
export function createQuietness(options) {
  const { read, apply } = options;
  const settleMs = options.settleMs ?? 2000;
  const timers = options.timers ?? realTimers;
  /** @type {Loudness} */
  let mode = 'loud';
  /** @type {unknown} */
  let settleTimer = null;
  let closed = false;

  function stopTimer() {
    if (settleTimer !== null) timers.clearTimeout(settleTimer);
    settleTimer = null;
  }

  /** @param {Loudness} next */
  function become(next) {
    if (next === mode) return;
    mode = next;
    apply(next);
  }

  function update() {
    if (closed) return;
    if (!wantsQuiet(read())) {
      stopTimer();
      become('loud');
      return;
    }
    if (mode === 'quiet' || settleTimer !== null) return;
    settleTimer = timers.setTimeout(() => {
      settleTimer = null;
      if (!closed && wantsQuiet(read())) become('quiet');
    }, settleMs);
  }

  return {
    update,
    mode: () => mode,
    close() {
      closed = true;
      stopTimer();
    },
  };
}
