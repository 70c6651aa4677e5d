// The server side of the end-to-end tests: a private Apache httpd (scripts/lib/apache.sh), or
// nginx + fcgiwrap, lighttpd or Apache with suEXEC (scripts/lib/<host>.sh), serving the built
// target/dist/webrtc.cgi, plus plain-HTTP helpers that speak PROTOCOL.md.
//
// Every server started here is stopped when the test process ends, however it ends, so a
// failing test never leaves an httpd behind.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const apacheScript = path.join(repoRoot, 'scripts/lib/apache.sh');
const qosScript = path.join(repoRoot, 'scripts/lib/qos.sh');
/** The servers a test can start, each by its script in scripts/lib/. */
const HOST_SCRIPTS = {
  apache: apacheScript,
  nginx: path.join(repoRoot, 'scripts/lib/nginx.sh'),
  lighttpd: path.join(repoRoot, 'scripts/lib/lighttpd.sh'),
  suexec: path.join(repoRoot, 'scripts/lib/suexec.sh'),
};
// WEBRTC_CGI_BIN tests another build of the executable than the one scripts/build made.
const binary = path.resolve(process.env.WEBRTC_CGI_BIN || path.join(repoRoot, 'target/dist/webrtc.cgi'));

const running = new Set();

function stopAll() {
  for (const server of running) server.stop();
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    stopAll();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

/**
 * Where instance folders go: build/e2e in the repository, or, when running as root from a
 * folder that httpd's unprivileged account cannot enter, a folder under the system temp dir.
 */
function instancesRoot() {
  const preferred = path.join(repoRoot, 'build/e2e');
  if (process.getuid?.() !== 0) return preferred;
  for (let folder = repoRoot; ; folder = path.dirname(folder)) {
    if ((fs.statSync(folder).mode & 0o001) === 0) return path.join(os.tmpdir(), 'webrtc-cgi-e2e');
    if (folder === path.dirname(folder)) return preferred;
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function apache(...args) {
  return apacheWith({}, ...args);
}

/** Runs scripts/lib/apache.sh with extra environment variables. */
function apacheWith(environment, ...args) {
  return hostScript('apache', environment, ...args);
}

/** Runs the script of `host` (see HOST_SCRIPTS) with extra environment variables. */
function hostScript(host, environment, ...args) {
  return execFileSync(HOST_SCRIPTS[host], args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...environment },
  });
}

/**
 * Starts Apache with webrtc.cgi.
 * @param {object} options
 * @param {string} options.name instance folder name under build/e2e/
 * @param {'cgi-bin'|'docroot'} [options.layout] a ScriptAlias'd cgi-bin, or an ordinary folder
 *   /video/ that runs CGI only because of the shipped .htaccess
 * @param {boolean} [options.htaccess] copy scripts/deploy/.htaccess beside the executable
 * @param {object|null} [options.settings] webrtc.json keys; `data_dir: null` leaves the data in
 *   the default webrtc-data folder beside the executable; `null` writes no webrtc.json at all
 * @param {'cgid'|'cgi'} [options.cgi] the event MPM with mod_cgid, or the prefork MPM with
 *   mod_cgi, which some hosts still run
 * @param {{limit: number, retryAfter?: number}} [options.qos] an entry-process limit in front
 *   of the executable (scripts/lib/qos.sh): over `limit` requests at once are answered 508
 * @param {'apache'|'nginx'|'lighttpd'|'suexec'} [options.host] the server: Apache (the
 *   default), nginx + fcgiwrap, lighttpd, or Apache with suEXEC for an unprivileged account
 *   (scripts/lib/<host>.sh); the last three serve an ordinary folder and ignore `layout`
 * @param {string[]} [options.hostOptions] more options of that script, e.g. ['--no-deny']
 */
export async function startServer({ name, layout = 'cgi-bin', htaccess = true, settings = {}, cgi = 'cgid', host = 'apache', hostOptions = [], qos }) {
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: run scripts/build first`);
  }
  const dir = path.join(instancesRoot(), name);
  fs.rmSync(dir, { recursive: true, force: true });
  const port = await freePort();
  const args = ['up', '--dir', dir, '--port', String(port), '--binary', binary, ...hostOptions];
  if (host === 'apache') args.push('--layout', layout);
  if (!htaccess) args.push('--no-htaccess');
  if (settings === null) {
    args.push('--no-settings');
  } else {
    const file = { data_dir: path.join(dir, 'state/webrtc-data'), ...settings };
    if (file.data_dir === null) delete file.data_dir;
    args.push('--settings', JSON.stringify(file));
  }
  let url;
  try {
    url = hostScript(host, { APACHE_CGI: cgi }, ...args).trim().split('\n').pop();
    if (qos) {
      const limiter = ['enable', '--dir', dir, '--limit', String(qos.limit)];
      if (qos.retryAfter !== undefined) limiter.push('--retry-after', String(qos.retryAfter));
      execFileSync(qosScript, ['install'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      execFileSync(qosScript, limiter, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      apache('restart', '--dir', dir);
    }
  } catch (error) {
    throw new Error(`${host} did not start: ${error.stderr || error.message}`);
  }
  const appDir = host === 'suexec'
    ? fs.readFileSync(path.join(dir, 'run/app-dir'), 'utf8').trim()
    : path.join(dir, host === 'apache' && layout === 'cgi-bin' ? 'cgi-bin' : 'htdocs/video');
  const server = {
    url,
    origin: new URL(url).origin,
    dir,
    appDir,
    stopped: false,
    stop() {
      if (server.stopped) return;
      server.stopped = true;
      running.delete(server);
      try {
        hostScript(host, {}, 'down', '--dir', dir);
      } catch (error) {
        console.error(`stopping ${host} in ${dir} failed: ${error.stderr || error.message}`);
      }
    },
    /** Restarts Apache; `graceful` lets running requests finish, `restart` cuts them. */
    signal(action) {
      apache(action, '--dir', dir);
    },
    errorLog() {
      try {
        return fs.readFileSync(path.join(dir, 'logs/error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    /** Kills the CGI processes answering this instance's event streams (of one peer, if given). */
    killEventStreams(peer) {
      const streams = cgiProcesses(appDir, (query) => {
        const params = new URLSearchParams(query);
        return params.get('mode') === 'sse' && (peer === undefined || params.get('peer') === peer);
      });
      return streams.filter((pid) => {
        try {
          process.kill(pid, 'SIGKILL');
          return true;
        } catch {
          return false; // It ended on its own in the meantime.
        }
      }).length;
    },
    /** Counts the running event streams whose query parameters pass `select`. */
    countEventStreams(select = () => true) {
      return cgiProcesses(appDir, (query) => {
        const params = new URLSearchParams(query);
        return params.get('mode') === 'sse' && select(params);
      }).length;
    },
  };
  running.add(server);
  return server;
}

/**
 * This instance's running webrtc.cgi processes whose QUERY_STRING passes `select`, found
 * through /proc by their SCRIPT_FILENAME, so only processes of this test are seen.
 * Returns their process ids.
 */
function cgiProcesses(appDir, select) {
  const script = path.join(appDir, 'webrtc.cgi');
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ;
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
    } catch {
      continue;
    }
    const variables = new Map(environ.map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)];
    }));
    if (variables.get('SCRIPT_FILENAME') !== script) continue;
    if (select(variables.get('QUERY_STRING') || '')) found.push(Number(entry));
  }
  return found;
}

/** A fresh room name, so tests never share state. */
export function roomName(prefix = 'e2e') {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

function withQuery(url, params) {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, String(value));
  return target.toString();
}

/** POST ?mode=join; returns the parsed answer, or throws with the status. */
export async function join(url, room) {
  const response = await fetch(withQuery(url, { mode: 'join', room }), { method: 'POST', body: '' });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`join answered ${response.status}: ${text}`);
  }
  return JSON.parse(text);
}

/** POST ?mode=post for `who` (a join answer); returns the response status. */
export async function post(url, room, who, message) {
  const response = await fetch(
    withQuery(url, { mode: 'post', room, peer: who.peer, token: who.token }),
    { method: 'POST', body: JSON.stringify(message), headers: { 'Content-Type': 'application/json' } },
  );
  const text = await response.text();
  if (response.status !== 202) {
    throw new Error(`post answered ${response.status}: ${text}`);
  }
  return JSON.parse(text);
}

/**
 * Opens ?mode=sse for `who` and records when each event arrives, in milliseconds since the
 * request was sent. The body is gunzipped if the server compressed it, so a compressed stream
 * is still readable (and reported in `encoding`).
 */
export function openEventStream(url, room, who, { hold, headers = {} } = {}) {
  const params = { mode: 'sse', room, peer: who.peer, token: who.token };
  if (hold !== undefined) params.hold = hold;
  const target = new URL(withQuery(url, params));
  const started = Date.now();
  const stream = {
    status: undefined,
    headers: undefined,
    encoding: undefined,
    events: [],
    ended: false,
    listeners: new Set(),
    request: undefined,
    /** Resolves with the first event passing `test`, or rejects after `timeoutMs`. */
    waitFor(test, timeoutMs) {
      const found = stream.events.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          stream.listeners.delete(listener);
          reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(stream.events)}`));
        }, timeoutMs);
        const listener = (event) => {
          if (event === null) {
            clearTimeout(timer);
            stream.listeners.delete(listener);
            reject(new Error(`stream ended without a matching event; got ${JSON.stringify(stream.events)}`));
          } else if (test(event)) {
            clearTimeout(timer);
            stream.listeners.delete(listener);
            resolve(event);
          }
        };
        stream.listeners.add(listener);
      });
    },
    finished: undefined,
    close() {
      stream.request?.destroy();
    },
  };
  stream.finished = new Promise((resolve, reject) => {
    stream.request = http.get(target, {
      headers: { Accept: 'text/event-stream', ...headers },
    }, (response) => {
      stream.status = response.statusCode;
      stream.headers = response.headers;
      stream.encoding = response.headers['content-encoding'];
      let body = response;
      if (stream.encoding === 'gzip') {
        body = response.pipe(zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }));
      }
      body.setEncoding('utf8');
      let pending = '';
      body.on('data', (chunk) => {
        pending += chunk.replace(/\r\n?/g, '\n');
        let end;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const event = parseEventBlock(block, Date.now() - started);
          if (!event) continue;
          stream.events.push(event);
          for (const listener of [...stream.listeners]) listener(event);
        }
      });
      const finish = () => {
        if (stream.ended) return;
        stream.ended = true;
        stream.endedAfterMs = Date.now() - started;
        for (const listener of [...stream.listeners]) listener(null);
        resolve(stream);
      };
      body.on('end', finish);
      body.on('close', finish);
      body.on('error', finish);
    });
    stream.request.on('error', (error) => {
      if (stream.status === undefined) reject(error);
    });
  });
  return stream;
}

/** One SSE block into {event, id, data, retry, comment, atMs}; comments alone are kept too. */
function parseEventBlock(block, atMs) {
  const event = { event: 'message', id: undefined, data: undefined, retry: undefined, comment: false, atMs };
  const data = [];
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line === '') continue;
    if (line.startsWith(':')) {
      event.comment = true;
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    fields += 1;
    if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry') event.retry = Number(value);
  }
  if (fields === 0 && !event.comment) return null;
  if (data.length > 0) {
    event.data = data.join('\n');
    try {
      event.json = JSON.parse(event.data);
    } catch {
      event.json = undefined;
    }
  }
  return event;
}

/** GET a path on the server without following redirects; returns {status, headers, body}. */
export async function fetchRaw(origin, rawPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(origin);
    const request = http.request({ hostname, port, path: rawPath, method: 'GET', headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('latin1') });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}
