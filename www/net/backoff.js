// Reconnection policy: how long to wait before the next attempt after a run of failures.
// It owns only the arithmetic (exponential growth, a cap, random jitter so that every peer of
// a room does not hit a struggling host in the same millisecond, and a reset once an attempt
// succeeds). It never sets a timer itself; the caller asks for a delay and waits.
'use strict';

/**
 * @typedef {object} BackoffOptions
 * @property {number} [baseMs] The nominal delay after the first failure.
 * @property {number} [capMs] No nominal delay grows beyond this.
 * @property {number} [factor] Growth of the nominal delay per further failure.
 * @property {number} [jitter] Fraction (0..1) by which a delay may be shortened at random.
 * @property {() => number} [random] A source of numbers in [0, 1); injectable for tests.
 */

/**
 * @typedef {object} Backoff
 * @property {() => number} next Records a failure and returns the delay to wait, in ms.
 * @property {() => void} reset Records a success: the next failure starts again at baseMs.
 * @property {() => number} failures The number of failures since the last reset.
 */

/**
 * Creates a backoff policy. A delay lies in [nominal * (1 - jitter), nominal], where the
 * nominal delay is min(capMs, baseMs * factor^(failures - 1)).
 * @param {BackoffOptions} [options]
 * @returns {Backoff}
 */
export function createBackoff(options = {}) {
  const baseMs = options.baseMs ?? 500;
  const capMs = options.capMs ?? 30000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.3));
  const random = options.random ?? Math.random;
  let failures = 0;

  return {
    next() {
      failures += 1;
      const nominal = Math.min(capMs, baseMs * factor ** (failures - 1));
      return Math.round(nominal * (1 - jitter * random()));
    },
    reset() {
      failures = 0;
    },
    failures() {
      return failures;
    },
  };
}

/**
 * Reads an HTTP Retry-After header (delta seconds or an HTTP date) as milliseconds from now.
 * Returns null when the header is absent or unreadable, so the caller falls back to backoff.
 * @param {string | null | undefined} header
 * @param {number} [nowMs] The current time, injectable for tests.
 * @returns {number | null}
 */
export function parseRetryAfter(header, nowMs = Date.now()) {
  if (header == null) return null;
  const text = String(header).trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names a weekday or month; without letters, Date.parse would accept
  // oddities such as "-5" as a year.
  if (!/[A-Za-z]/.test(text)) return null;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}
