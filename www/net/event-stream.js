// The incoming half of the signaling transport: one EventSource per session, its events
// deduplicated by id, the hello/bye records that reveal a buffering host (and the switch to
// polling with hold=0 when one does), and the recovery of a stream the browser gave up on
// (a short probe that reads the status EventSource hides). It never joins by itself: it asks
// the transport through the link.
'use strict';

import { createBackoff } from './backoff.js';
import { looksBuffered, recordOfHello, serverTimeOf } from './buffering.js';
import { retryDelay } from './link.js';
import { actionForStatus } from './protocol.js';

/** EventSource.CLOSED and OPEN, spelled out so that no global is needed to read them. */
const EVENT_SOURCE_CLOSED = 2;
const EVENT_SOURCE_OPEN = 1;

/** After this long without an open stream, the user is told that the connection is being restored. */
const RECONNECTING_NOTICE_MS = 5000;

/**
 * The first stream of a page is held only this long (seconds): a host that buffers held
 * responses then shows itself within seconds, before the call needs its signaling, rather
 * than after a whole hold. Long enough for `looksBuffered` to judge (it needs two seconds).
 */
export const FIRST_HOLD_SECONDS = 3;

/**
 * @typedef {object} EventStream
 * @property {() => void} open Opens (or reopens) the stream from the last processed id.
 * @property {() => void} close Closes it and stops its timers.
 * @property {() => boolean} isOpen
 * @property {() => import('./buffering.js').StreamRecord[]} streams The most recent SSE
 *   responses, oldest first (copies).
 * @property {() => boolean} polling
 */

/**
 * @param {import('./link.js').Link} link
 * @param {object} options
 * @param {typeof EventSource} options.EventSource
 * @param {ReturnType<typeof import('./protocol.js').createIdFilter>} options.ids
 * @param {() => number} options.random
 * @param {(data: string) => void} options.onMessage The data of each new message event.
 * @param {() => boolean} [options.wanted] Whether a stream should be open at all: a probe
 *   that finds the server well again opens one only then (a quiet peer holds none).
 * @returns {EventStream}
 */
export function createEventStream(link, options) {
  const { ids } = options;
  const { timers } = link;
  const EventSourceCtor = options.EventSource;
  const backoff = createBackoff({ baseMs: 1000, capMs: 30000, random: options.random });
  /** @type {EventSource | null} */
  let source = null;
  /** @type {unknown} */
  let retryTimer = null;
  /** @type {unknown} */
  let noticeTimer = null;
  /** @type {import('./buffering.js').StreamRecord[]} */
  const streams = [];
  // Set for the rest of the page's life once a held response came buffered: every response
  // of this host would, so the stream asks for answers without a hold instead.
  let polling = false;
  // Until the first response ends with bye: the streams ask for the short FIRST_HOLD_SECONDS.
  let firstStream = true;

  function close() {
    if (source) {
      source.close();
      source = null;
    }
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    retryTimer = null;
    if (noticeTimer !== null) timers.clearTimeout(noticeTimer);
    noticeTimer = null;
  }

  function lastParam() {
    const last = ids.last();
    return last > 0 ? String(last) : undefined;
  }

  function holdParam() {
    if (polling) return '0';
    return firstStream ? String(FIRST_HOLD_SECONDS) : undefined;
  }

  function open() {
    close();
    // A fresh EventSource has no Last-Event-ID of its own, so the last processed id travels in
    // the query; the browser's own reconnects then send the header, which takes precedence.
    const es = new EventSourceCtor(
      link.url(link.sessionParams({ mode: 'sse', last: lastParam(), hold: holdParam() })),
    );
    source = es;
    es.onopen = () => {
      if (es !== source) return;
      backoff.reset();
      if (noticeTimer !== null) timers.clearTimeout(noticeTimer);
      noticeTimer = null;
      link.setState('live');
    };
    es.onmessage = (event) => {
      if (es !== source || !ids.accept(event.lastEventId)) return;
      const record = streams[streams.length - 1];
      if (record && record.byeAt === null) record.messages += 1;
      options.onMessage(event.data);
    };
    es.addEventListener('hello', (event) => {
      if (es !== source) return;
      streams.push(recordOfHello(/** @type {MessageEvent} */ (event).data, link.now()));
      if (streams.length > 20) streams.shift();
    });
    es.addEventListener('bye', (event) => {
      if (es === source) onBye(/** @type {MessageEvent} */ (event).data);
    });
    // The server removed this peer (it left from another tab, or expired while held).
    es.addEventListener('gone', () => {
      if (es === source) link.rejoin();
    });
    es.onerror = () => {
      if (es === source) onError(es);
    };
  }

  /** @param {string} data */
  function onBye(data) {
    const record = streams[streams.length - 1];
    if (!record || record.byeAt !== null) return;
    record.byeAt = link.now();
    record.serverByeTime = serverTimeOf(data);
    if (!polling && looksBuffered(record)) {
      polling = true;
      console.info(
        'webrtc-cgi: this host delivers held responses only when they end (something buffers CGI output); ' +
          'switching to polling once a second. The self-check page (?mode=check) names the usual fix.',
      );
      open();
      return;
    }
    if (firstStream) {
      // The host streams: from now on the server's full hold (EventSource would otherwise
      // reconnect to the same short-hold URL).
      firstStream = false;
      open();
    }
  }

  /** @param {EventSource} es */
  function onError(es) {
    if (es.readyState === EVENT_SOURCE_CLOSED) {
      // The browser gave up (any non-200 answer does that): find out why, after a pause.
      source = null;
      es.close();
      link.setState('reconnecting');
      scheduleProbe(backoff.next());
      return;
    }
    // The browser retries by itself (a hold ended, or the network blinked). Only a retry
    // that takes long is worth telling the user about.
    if (noticeTimer === null) {
      noticeTimer = timers.setTimeout(() => {
        noticeTimer = null;
        if (es === source && es.readyState !== EVENT_SOURCE_OPEN) link.setState('reconnecting');
      }, RECONNECTING_NOTICE_MS);
    }
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
    if (!link.session() || link.stopped()) return;
    const myGeneration = link.generation();
    const response = await link.request(
      link.url(link.sessionParams({ mode: 'sse', last: lastParam(), hold: '0' })),
      { method: 'GET', headers: { Accept: 'text/event-stream' } },
    );
    // The probe's events are not processed: the stream opened next fetches them again,
    // because `last` only deletes what was already processed.
    response?.body?.cancel().catch(() => {});
    if (myGeneration !== link.generation() || link.stopped()) return;
    const status = response ? response.status : null;
    const action = actionForStatus(status);
    if (action === 'ok') {
      if (options.wanted?.() ?? true) open();
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
    open,
    close,
    isOpen: () => source?.readyState === EVENT_SOURCE_OPEN,
    streams: () => streams.map((record) => ({ ...record })),
    polling: () => polling,
  };
}
