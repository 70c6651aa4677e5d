// The signaling transport: the one place that talks HTTP to the executable. It joins the room,
// keeps one EventSource open for incoming messages (deduplicated by event id), sends outgoing
// messages as POSTs strictly one at a time and in order, retries what a host refuses for a
// moment, reconnects a stream the browser gave up on, and joins again under a new peer id when
// the server no longer knows this peer. fetch, EventSource, sendBeacon and timers are injected,
// so nothing here touches a global at import time.
'use strict';

import { createBackoff, parseRetryAfter } from './backoff.js';
import { realTimers } from '../timers.js';
import { actionForStatus, apiUrl, createIdFilter, iceRefreshDelay, parseJoinInfo, parseServerMessage } from './protocol.js';

/** EventSource.CLOSED, spelled out so that no global is needed to read it. */
const EVENT_SOURCE_CLOSED = 2;

/** After this long without an open stream, the user is told that the connection is being restored. */
const RECONNECTING_NOTICE_MS = 5000;

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
 * One SSE response as this client saw it: when it opened, when `hello` and `bye` arrived and
 * how many messages came in between. On a host that buffers CGI output, hello, messages and
 * bye arrive together at the end of the hold, which these records make visible.
 * @typedef {object} StreamRecord
 * @property {number} helloAt Client time (ms) of the hello event.
 * @property {number | null} hold The hold the server announced for this response, in seconds.
 * @property {number | null} serverTime The server's clock in the hello event (ms).
 * @property {number} messages Messages received after this hello.
 * @property {number | null} byeAt Client time (ms) of the bye event, null while open.
 * @property {number | null} serverByeTime The server's clock in the bye event (ms).
 */

/**
 * Whether a finished response shows that the host buffers held responses: the server held it
 * open for seconds (its own clock says so), yet hello and bye reached this client together.
 * @param {StreamRecord} record
 * @returns {boolean}
 */
export function looksBuffered(record) {
  if (record.byeAt === null || record.serverTime === null || record.serverByeTime === null) return false;
  const heldMs = record.serverByeTime - record.serverTime;
  const seenMs = record.byeAt - record.helloAt;
  return heldMs >= 2000 && seenMs < heldMs / 4;
}

/**
 * @typedef {object} TransportHandlers
 * @property {(info: import('./protocol.js').JoinInfo) => void} joined Called after every
 *   successful join, including the transparent rejoins under a new id.
 * @property {(message: import('./protocol.js').ServerMessage) => void} message
 * @property {(state: TransportState, detail?: string) => void} state
 * @property {(peer: string) => void} [gone] A message's recipient is no longer in the room.
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
 * @property {() => StreamRecord[]} streams The most recent SSE responses, oldest first.
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
  const EventSourceCtor = options.EventSource ?? globalThis.EventSource;
  const sendBeacon =
    options.sendBeacon ??
    ((url, data) => globalThis.navigator?.sendBeacon?.(url, data) ?? false);
  const timers = options.timers ?? realTimers;
  const now = options.now ?? (() => Date.now());
  const random = options.random ?? Math.random;

  const joinBackoff = createBackoff({ baseMs: 1000, capMs: 30000, random });
  const streamBackoff = createBackoff({ baseMs: 1000, capMs: 30000, random });
  const postBackoff = createBackoff({ baseMs: 500, capMs: 15000, random });
  const ids = createIdFilter();

  /** @type {import('./protocol.js').JoinInfo | null} */
  let session = null;
  // Every join, rejoin and leave starts a new generation; an answer that arrives for an older
  // generation belongs to a session that no longer exists and is ignored.
  let generation = 0;
  let stopped = true;
  /** @type {TransportState} */
  let currentState = 'joining';
  /** @type {EventSource | null} */
  let source = null;
  /** @type {unknown} */
  let retryTimer = null;
  /** @type {unknown} */
  let noticeTimer = null;
  /** @type {unknown} */
  let iceTimer = null;
  /** @type {{generation: number, body: string}[]} */
  let queue = [];
  let pumping = false;
  /** @type {StreamRecord[]} */
  const streams = [];
  // Set for the rest of the page's life once a held response came buffered: every response
  // of this host would, so the stream asks for answers without a hold instead.
  let polling = false;

  /**
   * @param {TransportState} state
   * @param {string} [detail]
   */
  function setState(state, detail) {
    if (state === currentState && detail === undefined) return;
    currentState = state;
    handlers.state(state, detail);
  }

  /** @param {number} ms */
  function sleep(ms) {
    return new Promise((resolve) => timers.setTimeout(resolve, ms));
  }

  /** @param {Record<string, string | undefined>} params */
  function url(params) {
    return apiUrl(apiPath, params);
  }

  /** @param {Record<string, string | undefined>} [extra] */
  function sessionParams(extra = {}) {
    if (!session) throw new Error('no session');
    return { room, peer: session.peer, token: session.token, ...extra };
  }

  /**
   * @param {string} target
   * @param {RequestInit} init
   * @returns {Promise<Response | null>} null on a network error.
   */
  async function request(target, init) {
    try {
      return await fetchFn(target, { cache: 'no-store', credentials: 'same-origin', ...init });
    } catch {
      return null;
    }
  }

  /**
   * @param {Response | null} response
   * @param {import('./backoff.js').Backoff} backoff
   */
  function retryDelay(response, backoff) {
    const fallback = backoff.next();
    const header = response?.headers?.get?.('Retry-After');
    const asked = parseRetryAfter(header, now());
    return asked === null ? fallback : Math.max(asked, 250);
  }

  async function join() {
    generation += 1;
    const myGeneration = generation;
    closeStream();
    session = null;
    queue = [];
    ids.reset();
    setState('joining');
    for (;;) {
      const response = await request(url({ mode: 'join', room }), { method: 'POST' });
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
          setState('error', 'The server answered the join request with something unreadable.');
          return;
        }
        joinBackoff.reset();
        session = info;
        openStream();
        scheduleIceRefresh(info.iceServersExpireAt);
        handlers.joined(info);
        pump();
        return;
      }
      if (action === 'full') {
        setState('full');
        return;
      }
      if (action !== 'retry') {
        setState('error', `The server refused to join this room (HTTP ${response?.status}).`);
        return;
      }
      await sleep(retryDelay(response, joinBackoff));
      if (myGeneration !== generation || stopped) return;
    }
  }

  /** @param {number | null} expireAt */
  function scheduleIceRefresh(expireAt) {
    if (iceTimer !== null) timers.clearTimeout(iceTimer);
    iceTimer = null;
    const delay = iceRefreshDelay(expireAt, now());
    if (delay === null) return;
    const myGeneration = generation;
    iceTimer = timers.setTimeout(async () => {
      iceTimer = null;
      if (myGeneration !== generation || !session || stopped) return;
      const response = await request(url(sessionParams({ mode: 'ice' })), { method: 'GET' });
      if (myGeneration !== generation || stopped) return;
      /** @type {{iceServers?: unknown, iceServersExpireAt?: unknown} | null} */
      let body = null;
      if (response && response.status === 200) body = await response.json().catch(() => null);
      if (body && Array.isArray(body.iceServers)) {
        handlers.iceServers?.(/** @type {RTCIceServer[]} */ (body.iceServers));
        const next = typeof body.iceServersExpireAt === 'number' ? body.iceServersExpireAt : null;
        scheduleIceRefresh(next);
        return;
      }
      // A 404 here is noticed by the stream as well; anything else is tried again later.
      if (response?.status !== 404) scheduleIceRefresh(expireAt);
    }, delay);
  }

  function closeStream() {
    if (source) {
      source.close();
      source = null;
    }
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    retryTimer = null;
    if (noticeTimer !== null) timers.clearTimeout(noticeTimer);
    noticeTimer = null;
  }

  function openStream() {
    closeStream();
    const last = ids.last();
    // A fresh EventSource has no Last-Event-ID of its own, so the last processed id travels in
    // the query; the browser's own reconnects then send the header, which takes precedence.
    const es = new EventSourceCtor(
      url(sessionParams({ mode: 'sse', last: last > 0 ? String(last) : undefined, hold: polling ? '0' : undefined })),
    );
    source = es;
    es.onopen = () => {
      if (es !== source) return;
      streamBackoff.reset();
      if (noticeTimer !== null) timers.clearTimeout(noticeTimer);
      noticeTimer = null;
      setState('live');
    };
    es.onmessage = (event) => {
      if (es !== source || !ids.accept(event.lastEventId)) return;
      const record = streams[streams.length - 1];
      if (record && record.byeAt === null) record.messages += 1;
      const message = parseServerMessage(event.data);
      if (message) handlers.message(message);
    };
    es.addEventListener('hello', (event) => {
      if (es !== source) return;
      recordHello(/** @type {MessageEvent} */ (event).data);
    });
    es.addEventListener('bye', (event) => {
      if (es !== source) return;
      const record = streams[streams.length - 1];
      if (!record || record.byeAt !== null) return;
      record.byeAt = now();
      record.serverByeTime = serverTimeOf(/** @type {MessageEvent} */ (event).data);
      if (!polling && looksBuffered(record)) {
        polling = true;
        console.info(
          'webrtc-cgi: this host delivers held responses only when they end (something buffers CGI output); ' +
            'switching to polling once a second. The self-check page (?mode=check) names the usual fix.',
        );
        openStream();
      }
    });
    // The server removed this peer (it left from another tab, or expired while held).
    es.addEventListener('gone', () => {
      if (es === source) join();
    });
    es.onerror = () => {
      if (es !== source) return;
      if (es.readyState === EVENT_SOURCE_CLOSED) {
        // The browser gave up (any non-200 answer does that): find out why, after a pause.
        source = null;
        es.close();
        setState('reconnecting');
        scheduleProbe(streamBackoff.next());
        return;
      }
      // The browser retries by itself (a hold ended, or the network blinked). Only a retry
      // that takes long is worth telling the user about.
      if (noticeTimer === null) {
        noticeTimer = timers.setTimeout(() => {
          noticeTimer = null;
          if (es === source && es.readyState !== 1) setState('reconnecting');
        }, RECONNECTING_NOTICE_MS);
      }
    };
  }

  /**
   * @param {string} data
   * @returns {number | null}
   */
  function serverTimeOf(data) {
    try {
      const value = JSON.parse(data);
      return typeof value?.t === 'number' ? value.t : null;
    } catch {
      return null;
    }
  }

  /** @param {string} data */
  function recordHello(data) {
    /** @type {{hold?: unknown, t?: unknown}} */
    let value = {};
    try {
      value = JSON.parse(data) ?? {};
    } catch {
      value = {};
    }
    streams.push({
      helloAt: now(),
      hold: typeof value.hold === 'number' ? value.hold : null,
      serverTime: typeof value.t === 'number' ? value.t : null,
      messages: 0,
      byeAt: null,
      serverByeTime: null,
    });
    if (streams.length > 20) streams.shift();
  }

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
    if (!session || stopped) return;
    const myGeneration = generation;
    const last = ids.last();
    const response = await request(
      url(sessionParams({ mode: 'sse', last: last > 0 ? String(last) : undefined, hold: '0' })),
      { method: 'GET', headers: { Accept: 'text/event-stream' } },
    );
    // The probe's events are not processed: the stream opened next fetches them again,
    // because `last` only deletes what was already processed.
    response?.body?.cancel().catch(() => {});
    if (myGeneration !== generation || stopped) return;
    const status = response ? response.status : null;
    const action = actionForStatus(status);
    if (action === 'ok') {
      openStream();
      return;
    }
    // 400 here means the server no longer accepts this peer's `last` (it forgot the peer's
    // history), which a fresh join also cures.
    if (action === 'rejoin' || status === 400) {
      join();
      return;
    }
    setState('reconnecting');
    scheduleProbe(retryDelay(response, streamBackoff));
  }

  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0 && session && !stopped) {
        const item = queue[0];
        if (item.generation !== generation) {
          queue.shift();
          continue;
        }
        const myGeneration = generation;
        const response = await request(url(sessionParams({ mode: 'post' })), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: item.body,
        });
        if (myGeneration !== generation) continue;
        const action = actionForStatus(response ? response.status : null);
        if (action === 'ok') {
          queue.shift();
          postBackoff.reset();
          if (currentState === 'reconnecting' && source?.readyState === 1) setState('live');
        } else if (action === 'gone') {
          queue.shift();
          const to = JSON.parse(item.body).to;
          if (typeof to === 'string') handlers.gone?.(to);
        } else if (action === 'rejoin') {
          join();
        } else if (action === 'retry') {
          if (postBackoff.failures() >= 1) setState('reconnecting');
          await sleep(retryDelay(response, postBackoff));
        } else {
          queue.shift();
          console.warn('webrtc-cgi: a message was refused with HTTP', response?.status);
        }
      }
    } finally {
      pumping = false;
    }
    // A rejoin may have queued new messages while this loop was finishing an old request.
    if (queue.length > 0 && session && !stopped) pump();
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
      const body = JSON.stringify({ to: message.to ?? null, type: message.type, data: message.data });
      queue.push({ generation, body });
      pump();
    },
    leave() {
      const ending = session;
      stopped = true;
      generation += 1;
      closeStream();
      if (iceTimer !== null) timers.clearTimeout(iceTimer);
      iceTimer = null;
      queue = [];
      session = null;
      if (ending) {
        const target = url({ mode: 'leave', room, peer: ending.peer, token: ending.token });
        // sendBeacon survives the page being closed; fetch with keepalive is the fallback.
        if (!sendBeacon(target, '')) {
          fetchFn(target, { method: 'POST', keepalive: true }).catch(() => {});
        }
      }
      setState('left');
    },
    peerId: () => session?.peer ?? null,
    state: () => currentState,
    streams: () => streams.map((record) => ({ ...record })),
    polling: () => polling,
  };
}
