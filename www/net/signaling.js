// The signaling transport: the one place that talks HTTP to the executable. It joins the room,
// joins again under a new peer id when the server no longer knows this peer, and leaves; the
// event stream (event-stream.js), the ordered POSTs (post-queue.js) and the renewal of TURN
// credentials (ice-refresh.js) work for the session it holds, through one Link (link.js).
// fetch, EventSource, sendBeacon and timers are injected, so nothing here touches a global at
// import time.
'use strict';

import { realTimers } from '../timers.js';
import { createBackoff } from './backoff.js';
import { createEventStream } from './event-stream.js';
import { createIceRefresh } from './ice-refresh.js';
import { retryDelay } from './link.js';
import { createPostQueue } from './post-queue.js';
import { createSealedSession } from './sealing.js';
import { actionForStatus, apiUrl, createIdFilter, parseJoinInfo, parseServerMessage } from './protocol.js';

/**
 * The state of the transport, as the user should see it.
 * - joining: the join request is under way (or being retried).
 * - live: joined, and the event stream is open.
 * - reconnecting: joined, but the stream or the POSTs fail; retrying.
 * - full: the room refused this peer (409).
 * - left: leave() was called.
 * - error: the server refused in a way retrying cannot fix.
 * @typedef {'joining' | 'live' | 'reconnecting' | 'full' | 'left' | 'error'} TransportState
 */

/**
 * @typedef {object} TransportHandlers
 * @property {(info: import('./protocol.js').JoinInfo) => void} joined Called after every
 *   successful join, including the transparent rejoins under a new id.
 * @property {(message: import('./protocol.js').ServerMessage) => void} message
 * @property {(state: TransportState, detail?: string) => void} state
 * @property {(peer: string) => void} [gone] A message's recipient is no longer in the room.
 * @property {(reason: string) => void} [tampered] In a sealed room, a message was dropped
 *   because the host made or changed it.
 * @property {(iceServers: RTCIceServer[]) => void} [iceServers] Fresh ICE servers (TURN
 *   credentials) replace expiring ones.
 */

/**
 * @typedef {object} TransportOptions
 * @property {string} apiPath The executable's path (location.pathname).
 * @property {string} room
 * @property {TransportHandlers} handlers
 * @property {typeof fetch} [fetch]
 * @property {typeof EventSource} [EventSource]
 * @property {(url: string, data?: string) => boolean} [sendBeacon]
 * @property {import('../timers.js').Timers} [timers]
 * @property {() => number} [now]
 * @property {() => number} [random]
 * @property {{crypto: import('./seal.js').Crypto, key: CryptoKey} | null} [seal] The room's
 *   key, from the link's fragment: the join asks for a sealed room, and when the server says
 *   the room is sealed, every message is sealed and opened (sealing.js).
 */

/**
 * @typedef {object} Transport
 * @property {() => void} start Joins the room (again, after leave()).
 * @property {(message: {to?: string | null, type: string, data?: unknown}) => void} post
 *   Queues a message. Queued messages are dropped when the peer id changes, because they
 *   were meant for connections that no longer exist; so is a message posted while joining.
 * @property {() => void} leave
 * @property {() => string | null} peerId
 * @property {() => TransportState} state
 * @property {() => import('./buffering.js').StreamRecord[]} streams The most recent SSE responses, oldest first.
 * @property {() => boolean} sealed Whether this session's messages are sealed.
 * @property {() => boolean} polling Whether this session switched to polling (hold 0)
 *   because the host buffers held responses.
 */

/**
 * @param {TransportOptions} options
 * @returns {Transport}
 */
export function createTransport(options) {
  const { apiPath, room, handlers } = options;
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const sendBeacon =
    options.sendBeacon ??
    ((url, data) => globalThis.navigator?.sendBeacon?.(url, data) ?? false);
  const timers = options.timers ?? realTimers;
  const now = options.now ?? (() => Date.now());
  const random = options.random ?? Math.random;

  const joinBackoff = createBackoff({ baseMs: 1000, capMs: 30000, random });
  const ids = createIdFilter();

  /** @type {import('./protocol.js').JoinInfo | null} */
  let session = null;
  // Every join, rejoin and leave starts a new generation; an answer that arrives for an older
  // generation belongs to a session that no longer exists and is ignored.
  let generation = 0;
  let stopped = true;
  /** @type {TransportState} */
  let currentState = 'joining';

  /** @type {import('./link.js').Link} */
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
      handlers.state(state, detail);
    },
    url: (params) => apiUrl(apiPath, params),
    sessionParams(extra = {}) {
      if (!session) throw new Error('no session');
      return { room, peer: session.peer, token: session.token, ...extra };
    },
    async request(target, init) {
      try {
        return await fetchFn(target, { cache: 'no-store', credentials: 'same-origin', ...init });
      } catch {
        return null;
      }
    },
    sleep: (ms) => new Promise((resolve) => timers.setTimeout(resolve, ms)),
    rejoin: () => join(),
  };

  const stream = createEventStream(link, {
    EventSource: options.EventSource ?? globalThis.EventSource,
    ids,
    random,
    onMessage(data) {
      const message = parseServerMessage(data);
      if (!message) return;
      if (sealed.active() && session) sealed.receive(session.peer, message, handlers.message);
      else handlers.message(message);
    },
  });
  const posts = createPostQueue(link, { random, streamOpen: stream.isOpen, gone: handlers.gone });
  const ice = createIceRefresh(link, handlers.iceServers);
  const sealed = createSealedSession(link, options.seal ? { ...options.seal, room } : null,
    (reason) => handlers.tampered?.(reason));

  async function join() {
    generation += 1;
    const myGeneration = generation;
    stream.close();
    session = null;
    posts.clear();
    ids.reset();
    link.setState('joining');
    for (;;) {
      const response = await link.request(link.url({ mode: 'join', room, sealed: options.seal ? '1' : undefined }), { method: 'POST' });
      if (myGeneration !== generation || stopped) return;
      const action = actionForStatus(response ? response.status : null);
      if (action === 'ok' && response) {
        let info = null;
        try {
          info = parseJoinInfo(await response.json());
        } catch {
          info = null;
        }
        if (myGeneration !== generation || stopped) return;
        if (!info) {
          link.setState('error', 'The server answered the join request with something unreadable.');
          return;
        }
        joinBackoff.reset();
        session = info;
        sealed.use(info.sealed);
        stream.open();
        ice.schedule(info.iceServersExpireAt);
        handlers.joined(info);
        posts.pump();
        return;
      }
      if (action === 'full') {
        link.setState('full');
        return;
      }
      if (action !== 'retry') {
        link.setState('error', `The server refused to join this room (HTTP ${response?.status}).`);
        return;
      }
      await link.sleep(retryDelay(response, joinBackoff, now()));
      if (myGeneration !== generation || stopped) return;
    }
  }

  return {
    start() {
      stopped = false;
      join();
    },
    post(message) {
      // Without a session there is no connection a message could belong to: connections are
      // created only after a join, and a rejoin replaces them all.
      if (stopped || !session) return;
      if (sealed.active()) sealed.send(session.peer, message, posts.push);
      else posts.push(JSON.stringify({ to: message.to ?? null, type: message.type, data: message.data }));
    },
    leave() {
      const ending = session;
      stopped = true;
      generation += 1;
      stream.close();
      ice.cancel();
      posts.clear();
      session = null;
      if (ending) {
        const target = link.url({ mode: 'leave', room, peer: ending.peer, token: ending.token });
        // sendBeacon survives the page being closed; fetch with keepalive is the fallback.
        if (!sendBeacon(target, '')) {
          fetchFn(target, { method: 'POST', keepalive: true }).catch(() => {});
        }
      }
      link.setState('left');
    },
    peerId: () => session?.peer ?? null,
    state: () => currentState,
    sealed: sealed.active,
    streams: stream.streams,
    polling: stream.polling,
  };
}
