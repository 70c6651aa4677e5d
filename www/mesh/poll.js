// The quiet peer's short reads of its inbox: a `GET ?mode=sse&hold=0` answered at once, read
// with fetch rather than EventSource (which would reconnect by itself every `retry`). It owns
// reading an event-stream body as the WHATWG parser does, and the timing of the polls; the
// transport builds the request and handles what comes back.
'use strict';

import { realTimers } from '../timers.js';

/**
 * @typedef {{id: string, event: string, data: string}} StreamEvent `id` is the last event id
 *   in effect (empty before the first `id:` line); `event` is "message" unless named.
 */

/**
 * Reads one non-empty line of an event stream as its field and value. Returns null for a
 * comment line.
 * @param {string} line
 * @returns {{field: string, value: string} | null}
 */
export function readField(line) {
  if (line.startsWith(':')) return null;
  const colon = line.indexOf(':');
  const field = colon === -1 ? line : line.slice(0, colon);
  const value = colon === -1 ? '' : line.slice(colon + 1);
  return { field, value: value.startsWith(' ') ? value.slice(1) : value };
}

/**
 * Parses a complete event-stream body (the WHATWG "event stream interpretation"): comments
 * are skipped, `data:` lines are joined with newlines, and an event cut off before its blank
 * line is dropped.
 * @param {string} text
 * @returns {StreamEvent[]}
 */
export function parseEventStream(text) {
  /** @type {StreamEvent[]} */
  const events = [];
  let lastId = '';
  let event = '';
  /** @type {string[] | null} */
  let data = null;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  // The last element follows the last line break: an unterminated line, never dispatched.
  lines.pop();
  for (const line of lines) {
    if (line === '') {
      if (data !== null) events.push({ id: lastId, event: event || 'message', data: data.join('\n') });
      data = null;
      event = '';
      continue;
    }
    const parsed = readField(line);
    if (!parsed) continue;
    const { field, value } = parsed;
    if (field === 'data') (data ??= []).push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) lastId = value;
  }
  return events;
}

/**
 * @typedef {object} Poller
 * @property {() => void} start Polls after one interval, then every interval.
 * @property {() => void} stop
 * @property {() => boolean} running
 * @property {(ms: number) => void} setInterval From the next scheduled poll on.
 */

/**
 * Runs `poll` every `intervalMs` while started, never two at once: the next interval starts
 * when a poll has finished, so a slow host is not asked again before it answered.
 * @param {{poll: () => Promise<void>, intervalMs: number, timers?: import('../timers.js').Timers}} options
 * @returns {Poller}
 */
export function createPoller(options) {
  const { poll } = options;
  let intervalMs = options.intervalMs;
  const timers = options.timers ?? realTimers;
  /** @type {unknown} */
  let timer = null;
  // Each start begins a new run; a poll that finishes after a stop must not schedule another.
  let run = 0;
  let active = false;

  /** @param {number} myRun */
  function schedule(myRun) {
    timer = timers.setTimeout(async () => {
      timer = null;
      if (myRun !== run) return;
      try {
        await poll();
      } finally {
        if (myRun === run && active) schedule(myRun);
      }
    }, intervalMs);
  }

  return {
    start() {
      if (active) return;
      active = true;
      run += 1;
      schedule(run);
    },
    stop() {
      active = false;
      run += 1;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
    running: () => active,
    setInterval(ms) {
      if (Number.isFinite(ms) && ms > 0) intervalMs = ms;
    },
  };
}
