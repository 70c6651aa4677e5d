// Renewal of expiring TURN credentials: a while before the ICE servers of the join expire,
// ask the executable (mode=ice) for fresh ones and hand them to the call, which gives them to
// every connection. A failed renewal is tried again later; a 404 is left to the event stream,
// which notices the expired peer as well.
'use strict';

import { iceRefreshDelay } from './protocol.js';

/**
 * @param {import('./link.js').Link} link
 * @param {((iceServers: RTCIceServer[]) => void) | undefined} onIceServers
 * @returns {{schedule: (expireAt: number | null) => void, cancel: () => void}}
 */
export function createIceRefresh(link, onIceServers) {
  const { timers } = link;
  /** @type {unknown} */
  let iceTimer = null;

  function cancel() {
    if (iceTimer !== null) timers.clearTimeout(iceTimer);
    iceTimer = null;
  }

  /** @param {number | null} expireAt Unix seconds. */
  function schedule(expireAt) {
    cancel();
    const delay = iceRefreshDelay(expireAt, link.now());
    if (delay === null) return;
    const myGeneration = link.generation();
    const current = () => myGeneration === link.generation() && !link.stopped();
    iceTimer = timers.setTimeout(async () => {
      iceTimer = null;
      if (!current() || !link.session()) return;
      const response = await link.request(link.url(link.sessionParams({ mode: 'ice' })), { method: 'GET' });
      if (!current()) return;
      /** @type {{iceServers?: unknown, iceServersExpireAt?: unknown} | null} */
      let body = null;
      if (response && response.status === 200) body = await response.json().catch(() => null);
      if (body && Array.isArray(body.iceServers)) {
        onIceServers?.(/** @type {RTCIceServer[]} */ (body.iceServers));
        const next = typeof body.iceServersExpireAt === 'number' ? body.iceServersExpireAt : null;
        schedule(next);
        return;
      }
      if (response?.status !== 404) schedule(expireAt);
    }, delay);
  }

  return { schedule, cancel };
}
