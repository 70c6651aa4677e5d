// How this client tells a host that streams held responses from one that buffers them: each
// SSE response leaves a record of when its `hello` and `bye` events arrived, by this client's
// clock and by the server's. Pure functions, and the watch (createBufferingWatch) that keeps
// a page's records and decides the hold each new stream asks for; no EventSource, no timer.
'use strict';

/**
 * The first stream of a page is held only this long (seconds): a host that buffers held
 * responses then shows itself within seconds, before the call needs its signaling, rather
 * than after a whole hold. Long enough for `looksBuffered` to judge (it needs two seconds).
 */
export const FIRST_HOLD_SECONDS = 3;

/** How many records of recent responses are kept. */
const KEPT_RECORDS = 20;

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
 * The server's clock (`t`, in ms) in a hello or bye event's data, or null.
 * @param {string} data
 * @returns {number | null}
 */
export function serverTimeOf(data) {
  try {
    const value = JSON.parse(data);
    return typeof value?.t === 'number' ? value.t : null;
  } catch {
    return null;
  }
}

/**
 * The record a hello event opens.
 * @param {string} data The hello event's data.
 * @param {number} nowMs This client's clock.
 * @returns {StreamRecord}
 */
export function recordOfHello(data, nowMs) {
  /** @type {{hold?: unknown, t?: unknown}} */
  let value = {};
  try {
    value = JSON.parse(data) ?? {};
  } catch {
    value = {};
  }
  return {
    helloAt: nowMs,
    hold: typeof value.hold === 'number' ? value.hold : null,
    serverTime: typeof value.t === 'number' ? value.t : null,
    messages: 0,
    byeAt: null,
    serverByeTime: null,
  };
}

/**
 * A page's SSE responses, and the hold its streams ask for: FIRST_HOLD_SECONDS until a
 * response ends with bye, then the server's own; 0 (polling) for the rest of the page's life
 * once a held response came buffered, because every response of this host would.
 * @param {() => number} now This client's clock (ms).
 */
export function createBufferingWatch(now) {
  /** @type {StreamRecord[]} */
  const records = [];
  let polling = false;
  let firstStream = true;

  return {
    /** @param {string} data A hello event's data: a new response began. */
    hello(data) {
      records.push(recordOfHello(data, now()));
      if (records.length > KEPT_RECORDS) records.shift();
    },
    /** A message event: counted in the open response's record. */
    message() {
      const record = records[records.length - 1];
      if (record && record.byeAt === null) record.messages += 1;
    },
    /**
     * A bye event: the response ends.
     * @param {string} data
     * @returns {'buffered' | 'streams' | null} 'buffered' when this response shows a host
     *   that buffers (the stream must be opened again, polling); 'streams' when the first
     *   response streamed (opened again, with the full hold); null when nothing changes.
     */
    bye(data) {
      const record = records[records.length - 1];
      if (!record || record.byeAt !== null) return null;
      record.byeAt = now();
      record.serverByeTime = serverTimeOf(data);
      if (!polling && looksBuffered(record)) {
        polling = true;
        return 'buffered';
      }
      if (!firstStream) return null;
      firstStream = false;
      return 'streams';
    },
    /** @returns {string | undefined} The `hold` parameter of the next stream. */
    hold() {
      if (polling) return '0';
      return firstStream ? String(FIRST_HOLD_SECONDS) : undefined;
    },
    polling: () => polling,
    /** @returns {StreamRecord[]} Copies, oldest first. */
    records: () => records.map((record) => ({ ...record })),
  };
}
