// The outgoing half of the signaling transport: messages leave as POSTs strictly one at a
// time and in the order they were queued, a transient refusal is retried with backoff (or
// after Retry-After) while later messages wait, and a message queued for an older session is
// dropped, because the connection it belonged to no longer exists.
'use strict';

import { createBackoff } from './backoff.js';
import { retryDelay } from './link.js';
import { actionForStatus } from './protocol.js';

/**
 * @typedef {object} PostQueue
 * @property {(body: string) => void} push Queues a JSON body for the current session.
 * @property {() => void} clear Drops everything queued.
 * @property {() => void} pump Sends what is queued (after a join).
 * @property {() => number} size How many messages wait (the one under way included).
 */

/**
 * @param {import('./link.js').Link} link
 * @param {object} options
 * @param {() => number} options.random
 * @param {() => boolean} options.streamOpen Whether the event stream is open, so that a
 *   POST that gets through again can tell the user the connection is back.
 * @param {((peer: string) => void) | undefined} options.gone A message's recipient has left.
 * @returns {PostQueue}
 */
export function createPostQueue(link, options) {
  const backoff = createBackoff({ baseMs: 500, capMs: 15000, random: options.random });
  /** @type {{generation: number, body: string}[]} */
  let queue = [];
  let pumping = false;

  const sendable = () => queue.length > 0 && link.session() !== null && !link.stopped();

  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (sendable()) {
        const item = queue[0];
        if (item.generation !== link.generation()) {
          queue.shift();
          continue;
        }
        const myGeneration = link.generation();
        const { url, headers } = link.sessionRequest({ mode: 'post' });
        const response = await link.request(url, {
          method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/json' },
          body: item.body,
        });
        if (myGeneration !== link.generation()) continue;
        await settle(item, response);
      }
    } finally {
      pumping = false;
    }
    // A rejoin may have queued new messages while this loop was finishing an old request.
    if (sendable()) pump();
  }

  /**
   * Acts on the answer to the first queued message.
   * @param {{generation: number, body: string}} item
   * @param {Response | null} response
   */
  async function settle(item, response) {
    const action = actionForStatus(response ? response.status : null);
    if (action === 'ok') {
      queue.shift();
      backoff.reset();
      if (link.state() === 'reconnecting' && options.streamOpen()) link.setState('live');
    } else if (action === 'gone') {
      queue.shift();
      const to = JSON.parse(item.body).to;
      if (typeof to === 'string') options.gone?.(to);
    } else if (action === 'rejoin') {
      link.rejoin();
    } else if (action === 'retry') {
      if (backoff.failures() >= 1) link.setState('reconnecting');
      await link.sleep(retryDelay(response, backoff, link.now()));
    } else {
      queue.shift();
      console.warn('webrtc-cgi: a message was refused with HTTP', response?.status);
    }
  }

  return {
    push(body) {
      queue.push({ generation: link.generation(), body });
      pump();
    },
    clear() {
      queue = [];
    },
    pump,
    size: () => queue.length,
  };
}
