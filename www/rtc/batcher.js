// Burst batching: items pushed close together in time leave as one array. ICE gathering
// produces its candidates in quick bursts; sending each one as its own POST would cost a CGI
// process per candidate on a host that counts processes, so they are collected for a short
// moment and sent together. Timers are injected so that tests control time.
'use strict';

import { realTimers } from '../timers.js';

/**
 * @template T
 * @typedef {object} Batcher
 * @property {(item: T) => void} push Adds an item to the current burst.
 * @property {() => void} flush Sends whatever is collected now.
 * @property {() => void} cancel Drops whatever is collected, without sending.
 */

/**
 * Creates a batcher that calls send(items) once per burst: as soon as no item has come for
 * quietMs, and at the latest delayMs after the burst's first item, so that a trickle that
 * never pauses is not held back either. A browser gathers its host candidates within a
 * millisecond or two, so they leave together almost at once, and later ones (from STUN or
 * TURN servers) leave in bursts of their own.
 * @template T
 * @param {(items: T[]) => void} send
 * @param {{delayMs?: number, quietMs?: number, timers?: import('../timers.js').Timers}} [options]
 * @returns {Batcher<T>}
 */
export function createBatcher(send, options = {}) {
  const delayMs = options.delayMs ?? 40;
  const quietMs = Math.min(options.quietMs ?? 5, delayMs);
  const timers = options.timers ?? realTimers;
  /** @type {T[]} */
  let items = [];
  /** @type {unknown} */
  let deadline = null;
  /** @type {unknown} */
  let quiet = null;

  function stopTimers() {
    if (deadline !== null) timers.clearTimeout(deadline);
    if (quiet !== null) timers.clearTimeout(quiet);
    deadline = null;
    quiet = null;
  }

  function flush() {
    stopTimers();
    if (items.length === 0) return;
    const batch = items;
    items = [];
    send(batch);
  }

  return {
    push(item) {
      items.push(item);
      if (deadline === null) deadline = timers.setTimeout(flush, delayMs);
      if (quiet !== null) timers.clearTimeout(quiet);
      quiet = timers.setTimeout(flush, quietMs);
    },
    flush,
    cancel() {
      stopTimers();
      items = [];
    },
  };
}
