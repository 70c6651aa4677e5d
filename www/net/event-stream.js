// The incoming half of the signaling transport: one EventSource per session, its events
// deduplicated by id, the hello/bye records that reveal a buffering host (buffering.js's
// watch; and the switch to polling with hold=0 when one does), and the recovery of a stream the browser gave up on
// (stream-recovery.js: a short probe that reads the status EventSource hides). It never
// joins by itself: it asks the transport through the link.
'use strict';

import { createBufferingWatch } from './buffering.js';
import { createRecovery } from './stream-recovery.js';

/** EventSource.CLOSED and OPEN, spelled out so that no global is needed to read them. */
const EVENT_SOURCE_CLOSED = 2;
const EVENT_SOURCE_OPEN = 1;

/** After this long without an open stream, the user is told that the connection is being restored. */
const RECONNECTING_NOTICE_MS = 5000;

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
  const recovery = createRecovery(link, {
    random: options.random,
    last: () => lastParam(),
    reopen: () => {
      if (options.wanted?.() ?? true) open();
    },
  });
  /** @type {EventSource | null} */
  let source = null;
  /** @type {unknown} */
  let noticeTimer = null;
  const watch = createBufferingWatch(() => link.now());

  function close() {
    if (source) {
      source.close();
      source = null;
    }
    recovery.cancel();
    if (noticeTimer !== null) timers.clearTimeout(noticeTimer);
    noticeTimer = null;
  }

  function lastParam() {
    const last = ids.last();
    return last > 0 ? String(last) : undefined;
  }

  function open() {
    close();
    // A fresh EventSource has no Last-Event-ID of its own, so the last processed id travels in
    // the query; the browser's own reconnects then send the header, which takes precedence.
    const es = new EventSourceCtor(
      link.url(link.sessionParams({ mode: 'sse', last: lastParam(), hold: watch.hold() })),
    );
    source = es;
    es.onopen = () => {
      if (es !== source) return;
      recovery.opened();
      if (noticeTimer !== null) timers.clearTimeout(noticeTimer);
      noticeTimer = null;
      link.setState('live');
    };
    es.onmessage = (event) => {
      if (es !== source || !ids.accept(event.lastEventId)) return;
      watch.message();
      options.onMessage(event.data);
    };
    es.addEventListener('hello', (event) => {
      if (es === source) watch.hello(/** @type {MessageEvent} */ (event).data);
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
    const verdict = watch.bye(data);
    if (verdict === 'buffered') {
      console.info(
        'webrtc-cgi: this host delivers held responses only when they end (something buffers CGI output); ' +
          'switching to polling once a second. The self-check page (?mode=check) names the usual fix.',
      );
    }
    // Polling, or (the host streams) from now on the server's full hold: EventSource would
    // otherwise reconnect to the same URL.
    if (verdict !== null) open();
  }

  /** @param {EventSource} es */
  function onError(es) {
    if (es.readyState === EVENT_SOURCE_CLOSED) {
      // The browser gave up (any non-200 answer does that): find out why, after a pause.
      source = null;
      es.close();
      link.setState('reconnecting');
      recovery.gaveUp();
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

  return {
    open,
    close,
    isOpen: () => source?.readyState === EVENT_SOURCE_OPEN,
    streams: watch.records,
    polling: watch.polling,
  };
}
