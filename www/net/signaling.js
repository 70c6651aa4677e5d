// The signaling transport: the one place that talks HTTP to the executable. It joins the room
// (join.js asks), joins again under a new peer id when the server no longer knows this peer,
// and leaves; the event stream (event-stream.js), the ordered POSTs (post-queue.js) and the
// renewal of TURN credentials (ice-refresh.js) work for the session it holds, through one
// Link (link.js).
// fetch, EventSource, sendBeacon and timers are injected, so nothing here touches a global at
// import time.
'use strict';

import { realTimers } from '../timers.js';
import { createBackoff } from './backoff.js';
import { createEventStream } from './event-stream.js';
import { createIceRefresh } from './ice-refresh.js';
import { createInboxPoll } from './inbox-poll.js';
import { requestJoin, sendLeave } from './join.js';
import { createLink } from './link.js';
import { createPostQueue } from './post-queue.js';
import { createSealedSession } from './sealing.js';
import { createIdFilter, parseServerMessage } from './protocol.js';

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
 * @property {(quiet: boolean) => void} setQuiet Quiet: no held stream, a hold=0 read of the
 *   inbox every quietPollSeconds instead, while the data channels carry the call. Ignored on
 *   a host that buffers (its polling stays as it is). Every join starts loud.
 * @property {() => boolean} quiet
 * @property {() => boolean} busy Joining, or messages wait to be posted.
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

  const { link, owner } = createLink({
    apiPath, room, fetch: fetchFn, timers, now, rejoin: () => join(),
    onState: (state, detail) => handlers.state(state, detail),
  });

  /** @param {string} data */
  function onMessage(data) {
    const message = parseServerMessage(data);
    if (!message) return;
    const session = link.session();
    if (sealed.active() && session) sealed.receive(session.peer, message, handlers.message);
    else handlers.message(message);
  }
  const stream = createEventStream(link, {
    EventSource: options.EventSource ?? globalThis.EventSource,
    ids,
    random,
    onMessage,
    wanted: () => !inbox.running(),
  });
  const inbox = createInboxPoll(link, { ids, onMessage });
  const posts = createPostQueue(link, {
    random,
    streamOpen: () => stream.isOpen() || inbox.running(),
    gone: handlers.gone,
  });
  const ice = createIceRefresh(link, handlers.iceServers);
  const sealed = createSealedSession(link, options.seal ? { ...options.seal, room } : null,
    (reason) => handlers.tampered?.(reason));

  function join() {
    owner.newGeneration();
    stream.close();
    inbox.stop();
    owner.setSession(null);
    posts.clear();
    ids.reset();
    link.setState('joining');
    return requestJoin(link, { room, sealed: Boolean(options.seal), backoff: joinBackoff }, {
      joined(info) {
        owner.setSession(info);
        sealed.use(info.sealed);
        stream.open();
        ice.schedule(info.iceServersExpireAt);
        handlers.joined(info);
        posts.pump();
      },
      full: () => link.setState('full'),
      error: (detail) => link.setState('error', detail),
    });
  }

  return {
    start() {
      owner.start();
      join();
    },
    post(message) {
      // Without a session there is no connection a message could belong to: connections are
      // created only after a join, and a rejoin replaces them all.
      const session = link.session();
      if (link.stopped() || !session) return;
      if (sealed.active()) sealed.send(session.peer, message, posts.push);
      else posts.push({ to: message.to ?? null, type: message.type, data: message.data });
    },
    leave() {
      const ending = link.session();
      owner.stop();
      owner.newGeneration();
      stream.close();
      inbox.stop();
      ice.cancel();
      posts.clear();
      owner.setSession(null);
      if (ending) {
        const target = link.url({ mode: 'leave', room, peer: ending.peer });
        sendLeave(target, ending.token, { sendBeacon, fetch: fetchFn });
      }
      link.setState('left');
    },
    peerId: () => link.session()?.peer ?? null,
    state: link.state,
    sealed: sealed.active,
    streams: stream.streams,
    polling: stream.polling,
    setQuiet(quiet) {
      const session = link.session();
      if (quiet === inbox.running() || stream.polling() || !session || link.stopped()) return;
      if (quiet) {
        stream.close();
        inbox.start(session.quietPollSeconds * 1000);
        return;
      }
      inbox.stop();
      stream.open();
    },
    quiet: () => inbox.running(),
    busy: () => !link.session() || posts.size() > 0,
  };
}
