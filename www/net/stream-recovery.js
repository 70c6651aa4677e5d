// The recovery of an event stream the browser gave up on (any non-200 answer makes an
// EventSource close for good, and hides the status): after a pause that grows with each
// failure, a short request (hold=0) asks the same question again and reads the status, then
// the stream is opened again, the transport asked to rejoin (this peer expired), or the probe
// repeated later. It opens no EventSource itself and never joins by itself.
'use strict';

import { createBackoff } from './backoff.js';
import { retryDelay } from './link.js';
import { actionForStatus } from './protocol.js';

/**
 * @param {import('./link.js').Link} link
 * @param {object} options
 * @param {() => number} options.random
 * @param {() => string | undefined} options.last The last processed event id, for the query.
 * @param {() => void} options.reopen Opens the stream again (when one is wanted).
 */
export function createRecovery(link, options) {
  const { timers } = link;
  const backoff = createBackoff({ baseMs: 1000, capMs: 30000, random: options.random });
  /** @type {unknown} */
  let retryTimer = null;

  /** @param {number} delayMs */
  function scheduleProbe(delayMs) {
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    retryTimer = timers.setTimeout(() => {
      retryTimer = null;
      probe();
    }, delayMs);
  }

  /**
   * EventSource hides the status of the answer that closed it, so a short request (hold=0)
   * asks the same question again and reads the status: a 404 means this peer expired.
   */
  async function probe() {
    if (!link.session() || link.stopped()) return;
    const myGeneration = link.generation();
    const response = await link.request(
      link.url(link.sessionParams({ mode: 'sse', last: options.last(), hold: '0' })),
      { method: 'GET', headers: { Accept: 'text/event-stream' } },
    );
    // The probe's events are not processed: the stream opened next fetches them again,
    // because `last` only deletes what was already processed.
    response?.body?.cancel().catch(() => {});
    if (myGeneration !== link.generation() || link.stopped()) return;
    const status = response ? response.status : null;
    const action = actionForStatus(status);
    if (action === 'ok') {
      options.reopen();
      return;
    }
    // 400 here means the server no longer accepts this peer's `last` (it forgot the peer's
    // history), which a fresh join also cures.
    if (action === 'rejoin' || status === 400) {
      link.rejoin();
      return;
    }
    link.setState('reconnecting');
    scheduleProbe(retryDelay(response, backoff, link.now()));
  }

  return {
    /** The stream opened: the next failure waits the shortest pause again. */
    opened: () => backoff.reset(),
    /** The browser gave up on the stream: find out why, after a pause. */
    gaveUp: () => scheduleProbe(backoff.next()),
    /** The stream is closed on purpose: no probe is pending. */
    cancel() {
      if (retryTimer !== null) timers.clearTimeout(retryTimer);
      retryTimer = null;
    },
  };
}
