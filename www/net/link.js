// What the parts of the signaling transport (the event stream, the post queue, the ICE
// refresh, the join) share: the current session and its generation, the user-visible state,
// and HTTP requests on the executable's path. signaling.js makes the one Link of a
// transport (createLink) and alone holds the hands that change the session; the parts only
// read it and never change the session themselves (they ask for a rejoin).
'use strict';

import { parseRetryAfter } from './backoff.js';
import { apiUrl } from './protocol.js';

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
 *   The room, peer and token of the session, with `extra`; throws without a session. Only
 *   the event stream puts the token in its URL (an EventSource cannot send headers).
 * @property {(extra?: Record<string, string | undefined>) => {url: string, headers: Record<string, string>}} sessionRequest
 *   An API URL with the room and peer of the session and `extra`, and the header that carries
 *   its token, so that the token stays out of URLs and so out of access logs.
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

/**
 * @typedef {object} LinkOwner What only the transport may do to its link.
 * @property {(session: import('./protocol.js').JoinInfo | null) => void} setSession
 * @property {() => number} newGeneration Starts a generation (a join, a rejoin, a leave) and
 *   returns its number.
 * @property {() => void} start Undoes stop: start() was called.
 * @property {() => void} stop leave() was called.
 */

/**
 * The one Link of a transport, and its owner's hands. No session, stopped, 'joining' at first.
 * @param {object} options
 * @param {string} options.apiPath The executable's path.
 * @param {string} options.room
 * @param {typeof fetch} options.fetch
 * @param {import('../timers.js').Timers} options.timers
 * @param {() => number} options.now
 * @param {(state: import('./signaling.js').TransportState, detail?: string) => void} options.onState
 *   Called when the state changes (or a detail comes with it).
 * @param {() => void} options.rejoin
 * @returns {{link: Link, owner: LinkOwner}}
 */
export function createLink({ apiPath, room, fetch, timers, now, onState, rejoin }) {
  /** @type {import('./protocol.js').JoinInfo | null} */
  let session = null;
  // Every join, rejoin and leave starts a new generation; an answer that arrives for an older
  // generation belongs to a session that no longer exists and is ignored.
  let generation = 0;
  let stopped = true;
  /** @type {import('./signaling.js').TransportState} */
  let currentState = 'joining';

  /** @type {Link} */
  const link = {
    timers,
    now,
    session: () => session,
    generation: () => generation,
    stopped: () => stopped,
    state: () => currentState,
    setState(state, detail) {
      if (state === currentState && detail === undefined) return;
      currentState = state;
      onState(state, detail);
    },
    url: (params) => apiUrl(apiPath, params),
    sessionParams(extra = {}) {
      if (!session) throw new Error('no session');
      return { room, peer: session.peer, token: session.token, ...extra };
    },
    sessionRequest(extra = {}) {
      if (!session) throw new Error('no session');
      return {
        url: apiUrl(apiPath, { room, peer: session.peer, ...extra }),
        headers: { 'X-Peer-Token': session.token },
      };
    },
    async request(target, init) {
      try {
        return await fetch(target, { cache: 'no-store', credentials: 'same-origin', ...init });
      } catch {
        return null;
      }
    },
    sleep: (ms) => new Promise((resolve) => timers.setTimeout(resolve, ms)),
    rejoin,
  };
  /** @type {LinkOwner} */
  const owner = {
    setSession(next) {
      session = next;
    },
    newGeneration() {
      generation += 1;
      return generation;
    },
    start() {
      stopped = false;
    },
    stop() {
      stopped = true;
    },
  };
  return { link, owner };
}
