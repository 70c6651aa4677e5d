// Burst batching: items pushed close together in time leave as one array. ICE gathering
// produces its candidates in quick bursts; sending each one as its own POST would cost a CGI
// process per candidate on a host that counts processes, so they are collected for a short
// moment and sent together. Timers are injected so that tests control time.
'use strict';

/**
 * @typedef {object} Timers
 * @property {(fn: () => void, ms: number) => unknown} setTimeout
 * @property {(handle: unknown) => void} clearTimeout
 */

/** @type {Timers} */
export const realTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(/** @type {any} */ (handle)),
};

/**
 * @template T
 * @typedef {object} Batcher
 * @property {(item: T) => void} push Adds an item; the first item of a burst starts the wait.
 * @property {() => void} flush Sends whatever is collected now.
 * @property {() => void} cancel Drops whatever is collected, without sending.
 */

/**
 * Creates a batcher that calls send(items) once per burst, delayMs after the burst's first
 * item. Measuring from the first item (not the last) bounds the added latency even when a
 * trickle of items never pauses.
 * @template T
 * @param {(items: T[]) => void} send
 * @param {{delayMs?: number, timers?: Timers}} [options]
 * @returns {Batcher<T>}
 */
export function createBatcher(send, options = {}) {
  const delayMs = options.delayMs ?? 40;
  const timers = options.timers ?? realTimers;
  /** @type {T[]} */
  let items = [];
  /** @type {unknown} */
  let handle = null;

  function flush() {
    if (handle !== null) {
      timers.clearTimeout(handle);
      handle = null;
    }
    if (items.length === 0) return;
    const batch = items;
    items = [];
    send(batch);
  }

  return {
    push(item) {
      items.push(item);
      if (handle === null) handle = timers.setTimeout(flush, delayMs);
    },
    flush,
    cancel() {
      if (handle !== null) timers.clearTimeout(handle);
      handle = null;
      items = [];
    },
  };
}
