// The self-check page's streaming test. The server sends a few `tick` events 400 ms apart
// (mode=probe); if they arrive spaced, the host streams CGI output and held SSE responses
// work; if they arrive together, something between the program and the browser buffers,
// and the page names the usual causes and their fixes.
'use strict';

const EXPECTED_TICKS = 5;
/** The ticks span 1.6 s when streamed; anything under this means they came in one piece. */
const BUFFERED_SPAN_MS = 300;
const GIVE_UP_MS = 15000;

/**
 * @param {'good' | 'warning' | 'failure'} verdict
 * @param {string} text
 */
function show(verdict, text) {
  const row = document.getElementById('streaming');
  const result = document.getElementById('streaming-result');
  if (!row || !result) return;
  row.className = verdict;
  const mark = row.querySelector('.mark');
  if (mark) mark.textContent = verdict === 'good' ? '✔' : verdict === 'warning' ? '!' : '✘';
  result.textContent = text;
}

/**
 * Judges arrival times (ms) of the ticks.
 * @param {number[]} arrivals
 * @returns {{verdict: 'good' | 'failure', text: string}}
 */
export function judge(arrivals) {
  const span = arrivals[arrivals.length - 1] - arrivals[0];
  if (arrivals.length === EXPECTED_TICKS && span >= BUFFERED_SPAN_MS) {
    return { verdict: 'good', text: `events arrive as they are sent (${EXPECTED_TICKS} events over ${Math.round(span)} ms): held connections will deliver signaling at once` };
  }
  return {
    verdict: 'failure',
    text: `events arrived together (${arrivals.length} within ${Math.round(span)} ms): something buffers this program's output. ` +
      'Usually it is compression (mod_deflate or LiteSpeed gzip): upload the .htaccess that comes with webrtc-cgi, which sets no-gzip for the event stream. ' +
      'Behind an nginx proxy the X-Accel-Buffering header already helps. If nothing does, set "hold_seconds": 0 in webrtc.json; ' +
      'calls still connect, a little slower (clients also switch to polling on their own when they notice).',
  };
}

function run() {
  if (typeof EventSource === 'undefined') {
    show('failure', 'this browser has no EventSource; use a current browser');
    return;
  }
  /** @type {number[]} */
  const arrivals = [];
  const source = new EventSource('?mode=probe');
  const timer = setTimeout(() => {
    source.close();
    show('failure', 'the test stream did not finish within 15 s: the host may block or delay long requests');
  }, GIVE_UP_MS);
  source.addEventListener('tick', () => arrivals.push(performance.now()));
  source.addEventListener('done', () => {
    clearTimeout(timer);
    source.close();
    const { verdict, text } = judge(arrivals);
    show(verdict, text);
  });
  source.onerror = () => {
    if (arrivals.length === 0) {
      clearTimeout(timer);
      source.close();
      show('failure', 'the test stream could not be opened (see the server error log)');
    }
  };
}

if (typeof document !== 'undefined') run();
