// The self-check page's two browser-side tests. Streaming: the server sends a few `tick`
// events 400 ms apart (mode=probe); if they arrive spaced, the host streams CGI output and
// held SSE responses work; if they arrive together, something between the program and the
// browser buffers, and the page names the usual causes and their fixes. Private files: the
// page asks for the settings file and a file of the data folder (the row's data-urls) and
// fails, naming the fix for Apache, nginx and lighttpd, when the server hands one out.
'use strict';

const EXPECTED_TICKS = 5;
/** The ticks span 1.6 s when streamed; anything under this means they came in one piece. */
const BUFFERED_SPAN_MS = 300;
const GIVE_UP_MS = 15000;

/**
 * @param {'good' | 'warning' | 'failure'} verdict
 * @param {string} text
 * @param {string} [rowId]
 */
function show(verdict, text, rowId = 'streaming') {
  const row = document.getElementById(rowId);
  const result = document.getElementById(`${rowId}-result`);
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
      'Behind an nginx proxy the X-Accel-Buffering header already helps. ' +
      'lighttpd keeps a whole answer unless lighttpd.conf says server.stream-response-body = 2. ' +
      'Behind nginx with fcgiwrap (see the Gateway row) this is expected: the program already answers at once there and browsers poll. ' +
      'If nothing helps, set "hold_seconds": 0 in webrtc.json; ' +
      'calls still connect, a little slower (clients also switch to polling on their own when they notice).',
  };
}

/**
 * Judges what the server answered for the private files' URLs.
 * @param {{url: string, status: number | null}[]} answers status null: the request failed.
 * @returns {{verdict: 'good' | 'failure', text: string}}
 */
export function judgePrivate(answers) {
  const served = answers.filter((answer) => answer.status !== null && answer.status >= 200 && answer.status < 300);
  if (served.length === 0) {
    const statuses = answers.map((answer) => answer.status ?? 'no answer').join(', ');
    return { verdict: 'good', text: `the settings file and the data folder are not served (answers: ${statuses})` };
  }
  return {
    verdict: 'failure',
    text: `anyone can download ${served.map((answer) => answer.url).join(' and ')}: the tokens of every room (and the TURN secret) are public. ` +
      'Best: set "data_dir" in webrtc.json to a folder outside the web root (for example beside public_html). ' +
      'Apache or LiteSpeed: upload the .htaccess that comes with webrtc-cgi. ' +
      'nginx (it reads no .htaccess): paste the "location" block of nginx.conf that comes with webrtc-cgi into the server block. ' +
      'lighttpd (it reads no .htaccess either): add the url.access-deny lines of lighttpd.conf that come with webrtc-cgi.',
  };
}

async function checkPrivateFiles() {
  const row = document.getElementById('private-files');
  const urls = (row?.dataset.urls ?? '').split(' ').filter(Boolean);
  if (urls.length === 0) return;
  const answers = await Promise.all(urls.map(async (url) => {
    try {
      const response = await fetch(url, { cache: 'no-store', redirect: 'manual', credentials: 'omit' });
      await response.body?.cancel();
      // A redirect (opaque here) leads away from the file, which is what a deny rule may do.
      return { url, status: response.type === 'opaqueredirect' ? 302 : response.status };
    } catch {
      return { url, status: null };
    }
  }));
  const { verdict, text } = judgePrivate(answers);
  show(verdict, text, 'private-files');
}

function run() {
  checkPrivateFiles();
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
