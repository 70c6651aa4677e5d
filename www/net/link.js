// What the parts of the signaling transport (the event stream, the post queue, the ICE
// refresh) share: the current session and its generation, the user-visible state, and HTTP
// requests on the executable's path. signaling.js makes the one Link of a transport; the
// parts only read it and never change the session themselves (they ask for a rejoin).
'use strict';

import { parseRetryAfter } from './backoff.js';

/**
 * @typedef {object} Link
 * @property {import('../timers.js').Timers} timers
 * @property {() => number} now
 * @property {() => import('./protocol.js').JoinInfo | null} session
 * @property {() => number} generation Every join, rejoin and leave starts a new generation.
 * @property {() => boolean} stopped Whether leave() was called (and no start() since).
 * @property {() => import('./signaling.js').TransportState} state
 * @property {(state: import('./signaling.js').TransportState, detail?: string) => void} setState
 * @property {(params: Record<string, string | undefined>) => string} url An API URL.
 * @property {(extra?: Record<string, string | undefined>) => Record<string, string | undefined>} sessionParams
 *   The room, peer and token of the session, with `extra`; throws without a session.
 * @property {(target: string, init: RequestInit) => Promise<Response | null>} request
 *   A fetch that answers null on a network error.
 * @property {(ms: number) => Promise<void>} sleep
 * @property {() => void} rejoin Joins again under a new peer id.
 */

/**
 * How long to wait before repeating a refused request: the server's Retry-After when it
 * gave one (at least 250 ms), the backoff's next delay otherwise.
 * @param {Response | null} response
 * @param {import('./backoff.js').Backoff} backoff
 * @param {number} nowMs
 * @returns {number}
 */
export function retryDelay(response, backoff, nowMs) {
  const fallback = backoff.next();
  const header = response?.headers?.get?.('Retry-After');
  const asked = parseRetryAfter(header, nowMs);
  return asked === null ? fallback : Math.max(asked, 250);
}
