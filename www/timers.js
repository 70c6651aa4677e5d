// The browser's timers behind a small interface, so that every module that waits takes its
// timers as an option and tests drive time with a fake clock (tests/client/fakes.mjs).
// Nothing else lives here.
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
