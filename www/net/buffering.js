// How this client tells a host that streams held responses from one that buffers them: each
// SSE response leaves a record of when its `hello` and `bye` events arrived, by this client's
// clock and by the server's. Pure functions; the event stream keeps the records.
'use strict';

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
