// Joining and leaving a room over HTTP: the join request, repeated with backoff (or the
// server's Retry-After) until the server takes this peer, finds the room full, or refuses in
// a way retrying cannot fix; and the leave that survives the page being closed. The session
// these start and end is signaling.js's: this module only asks and reports.
'use strict';

import { retryDelay } from './link.js';
import { actionForStatus, parseJoinInfo } from './protocol.js';

/**
 * @typedef {object} JoinOutcomes Called at once when the answer is known, unless a newer
 *   generation (a rejoin, a leave) started meanwhile: then none is called.
 * @property {(info: import('./protocol.js').JoinInfo) => void} joined
 * @property {() => void} full The room refused this peer (409).
 * @property {(detail: string) => void} error
 */

/**
 * Asks to join the room for the link's current generation.
 * @param {import('./link.js').Link} link
 * @param {{room: string, sealed: boolean, backoff: import('./backoff.js').Backoff}} options
 * @param {JoinOutcomes} outcomes
 * @returns {Promise<void>}
 */
export async function requestJoin(link, { room, sealed, backoff }, outcomes) {
  const myGeneration = link.generation();
  const current = () => myGeneration === link.generation() && !link.stopped();
  for (;;) {
    const response = await link.request(link.url({ mode: 'join', room, sealed: sealed ? '1' : undefined }), { method: 'POST' });
    if (!current()) return;
    const action = actionForStatus(response ? response.status : null);
    if (action === 'ok' && response) {
      let info = null;
      try {
        info = parseJoinInfo(await response.json());
      } catch {
        info = null;
      }
      if (!current()) return;
      if (!info) {
        outcomes.error('The server answered the join request with something unreadable.');
        return;
      }
      backoff.reset();
      outcomes.joined(info);
      return;
    }
    if (action === 'full') {
      outcomes.full();
      return;
    }
    if (action !== 'retry') {
      outcomes.error(`The server refused to join this room (HTTP ${response?.status}).`);
      return;
    }
    await link.sleep(retryDelay(response, backoff, link.now()));
    if (!current()) return;
  }
}

/**
 * Tells the server that this peer leaves. sendBeacon survives the page being closed, but
 * sends no headers: the token travels in its body. fetch with keepalive is the fallback, with
 * the token in its header.
 * @param {string} target The leave URL.
 * @param {string} token
 * @param {{sendBeacon: (url: string, data?: string) => boolean, fetch: typeof fetch}} send
 */
export function sendLeave(target, token, { sendBeacon, fetch }) {
  if (!sendBeacon(target, JSON.stringify({ token }))) {
    fetch(target, { method: 'POST', keepalive: true, headers: { 'X-Peer-Token': token } }).catch(() => {});
  }
}
