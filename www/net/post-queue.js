// The outgoing half of the signaling transport: messages leave as POSTs, each recipient's in
// the order they were queued, and those for different recipients side by side (at most
// PARALLEL_POSTS at once), so a newcomer's offers to three people do not wait for each
// other's round trips. A message to everyone (no recipient) waits until everything before it
// is answered, and everything after it waits for it. A transient refusal is retried with
// backoff (or after Retry-After) while later messages to that recipient wait, and a message
// queued for an older session is dropped, because the connection it belonged to no longer
// exists.
'use strict';

import { createBackoff } from './backoff.js';
import { retryDelay } from './link.js';
import { actionForStatus } from './protocol.js';

/**
 * POSTs under way at once, at most. Each is an entry process on the host for its few
 * milliseconds; three lets a newcomer reach three people at once without crowding an
 * account whose requests are rationed.
 */
export const PARALLEL_POSTS = 3;

/**
 * @typedef {object} PostQueue
 * @property {(post: Post) => void} push Queues a message for the current session.
 * @property {() => void} clear Drops everything queued.
 * @property {() => void} pump Sends what is queued (after a join).
 * @property {() => number} size How many messages wait (those under way included).
 */

/**
 * @typedef {object} Post A POST's body: what the server stores for its recipient.
 * @property {string | null} to The recipient; null for everyone.
 * @property {string} type
 * @property {unknown} [data]
 */

/**
 * @typedef {object} QueuedPost
 * @property {number} generation The session it was queued in.
 * @property {string} body
 * @property {string | null} to Its recipient; null for everyone.
 * @property {boolean} sending
 */

/**
 * The queued posts that may leave now: the first waiting one of each recipient that has
 * nothing before it under way or waiting, and a message to everyone only when it is first.
 * @param {QueuedPost[]} queue
 * @returns {QueuedPost[]}
 */
export function readyToSend(queue) {
  /** @type {Set<string | null>} */
  const ahead = new Set();
  const ready = [];
  for (const [index, item] of queue.entries()) {
    if (item.to === null) {
      if (index === 0 && !item.sending) ready.push(item);
      break;
    }
    if (!item.sending && !ahead.has(item.to)) ready.push(item);
    ahead.add(item.to);
  }
  return ready;
}

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
  /** @type {QueuedPost[]} */
  let queue = [];
  let underWay = 0;

  const sendable = () => link.session() !== null && !link.stopped();

  function pump() {
    queue = queue.filter((item) => item.sending || item.generation === link.generation());
    if (!sendable()) return;
    for (const item of readyToSend(queue)) {
      if (underWay >= PARALLEL_POSTS) return;
      send(item);
    }
  }

  /** @param {QueuedPost} item */
  async function send(item) {
    item.sending = true;
    underWay += 1;
    try {
      const myGeneration = link.generation();
      const { url, headers } = link.sessionRequest({ mode: 'post' });
      const response = await link.request(url, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: item.body,
      });
      if (myGeneration !== link.generation()) {
        drop(item);
        return;
      }
      await settle(item, response, myGeneration);
    } finally {
      item.sending = false;
      underWay -= 1;
    }
    pump();
  }

  /** @param {QueuedPost} item */
  function drop(item) {
    queue = queue.filter((other) => other !== item);
  }

  /**
   * Acts on the answer to a message; a message left in the queue is sent again by the pump.
   * @param {QueuedPost} item
   * @param {Response | null} response
   * @param {number} myGeneration
   */
  async function settle(item, response, myGeneration) {
    const action = actionForStatus(response ? response.status : null);
    if (action === 'ok') {
      drop(item);
      backoff.reset();
      if (link.state() === 'reconnecting' && options.streamOpen()) link.setState('live');
    } else if (action === 'gone') {
      drop(item);
      if (item.to !== null) options.gone?.(item.to);
    } else if (action === 'rejoin') {
      // Several posts under way may all learn that the session is gone: one rejoin.
      if (myGeneration === link.generation()) link.rejoin();
    } else if (action === 'retry') {
      if (backoff.failures() >= 1) link.setState('reconnecting');
      await link.sleep(retryDelay(response, backoff, link.now()));
    } else {
      drop(item);
      console.warn('webrtc-cgi: a message was refused with HTTP', response?.status);
    }
  }

  return {
    push(post) {
      queue.push({ generation: link.generation(), body: JSON.stringify(post), to: post.to, sending: false });
      pump();
    },
    clear() {
      queue = queue.filter((item) => item.sending);
    },
    pump,
    size: () => queue.length,
  };
}
