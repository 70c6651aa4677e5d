// Measures what calls cost a host in entry processes (EP), with simulated participants that
// run the real client (www/rtc/call.js with its transport and mesh logic) in Node against a real
// Apache. Only WebRTC itself is simulated: a connection "connects" as soon as its offer and
// answer are applied, and its data channel carries messages between the two simulated ends in
// this process. Everything that goes to the host is the client's own HTTP.
//
//   node scripts/bench.d/economy.mjs [--quick] [--only held,limiter,newcomer] [--binary PATH]
//        [--out FILE] [--limit N] [--chromium PATH] [--url URL] [--arrival-ms MS]
//
// --url measures held participants against a server already running there (its CGI processes
// are those of --binary) instead of starting Apache.
//
// held:    for rooms of 2, 3 and 6 participants, the CGI processes of the executable once the
//          call is settled, sampled every 50 ms for 10 s (the host's own count: /proc), and
//          the requests the participants made meanwhile.
// limiter: Apache with mod_qos answering 508 above 20 (--limit) concurrent requests for the executable
//          (scripts/lib/qos.sh, Retry-After: 2): 10 rooms of 6 participants arrive one after
//          another; counted are the participants connected to everyone in their room, then,
//          in each room, one participant leaves and a newcomer takes its place (admitted, and
//          its time to connect to everyone), and the 508 answers anyone saw.
// newcomer: real Chromium (playwright-core from tests/e2e): three people settle in a call, then
//          a fourth opens the room; timed from its navigation start to its tiles of all three
//          showing "connected" (the client's DOM contract), against a two-person call set up
//          the same way (the second person's navigation start to connected), several runs.
//
// Sets up its own Apache instances under build/bench-economy-* (scripts/lib/apache.sh, on free
// ports), ends them when done. Prints one JSON object (also written to --out). Figures, never
// failures: the exit status is non-zero only when the measurement could not run.
import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readField } from '../../www/mesh/poll.js';
// The client unit tests' stream double: a list of tracks is all a simulated participant needs.
import { FakeMediaStream } from '../../tests/client/fakes.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function parseArgs(argv) {
  const args = {
    quick: false, only: ['held', 'limiter', 'newcomer'], binary: path.join(REPO, 'target/dist/webrtc.cgi'), out: null, limit: 20,
    chromium: process.env.CHROMIUM || '/usr/bin/chromium', url: null, arrivalMs: null,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--only') args.only = String(argv[++i]).split(',');
    else if (arg === '--binary') args.binary = path.resolve(String(argv[++i]));
    else if (arg === '--out') args.out = path.resolve(String(argv[++i]));
    else if (arg === '--limit') args.limit = Number(argv[++i]);
    else if (arg === '--chromium') args.chromium = String(argv[++i]);
    else if (arg === '--url') args.url = String(argv[++i]);
    else if (arg === '--arrival-ms') args.arrivalMs = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function log(text) {
  process.stderr.write(`economy: ${text}\n`);
}

/** @param {number[]} values */
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
  return { n: sorted.length, median: at(0.5), p90: at(0.9), min: sorted[0] ?? null, max: sorted.at(-1) ?? null };
}

// --- What the host sees -------------------------------------------------------------------------

/** Counts running processes of `binary` (the host's entry processes for this executable). */
function cgiProcesses(binary) {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`) === binary) count += 1;
    } catch {
      // A process that ended meanwhile, or one of another user.
    }
  }
  return count;
}

/** Tallies every HTTP answer the simulated participants got, by mode and status. */
function createTally() {
  const counts = new Map();
  return {
    /** @param {string} url @param {number | null} status */
    add(url, status) {
      const mode = new URL(url).searchParams.get('mode') ?? 'page';
      const hold = new URL(url).searchParams.get('hold');
      const key = `${mode}${mode === 'sse' && hold === '0' ? '(hold=0)' : ''} ${status ?? 'network-error'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
    snapshot: () => Object.fromEntries([...counts].sort()),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    status: (status) => [...counts].filter(([key]) => key.endsWith(` ${status}`)).reduce((a, [, n]) => a + n, 0),
    reset: () => counts.clear(),
  };
}

// --- A browser's EventSource, over fetch ---------------------------------------------------------

/** @param {ReturnType<typeof createTally>} tally */
function eventSourceClass(tally, open) {
  return class SimEventSource {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.onopen = null;
      this.onmessage = null;
      this.onerror = null;
      this.listeners = new Map();
      this.lastEventId = '';
      this.retryMs = 3000;
      this.abort = null;
      this.connect();
    }

    addEventListener(name, fn) {
      if (!this.listeners.has(name)) this.listeners.set(name, []);
      this.listeners.get(name).push(fn);
    }

    close() {
      this.readyState = 2;
      this.abort?.abort();
    }

    dispatch(name, event) {
      if (this.readyState === 2) return;
      if (name === 'message') this.onmessage?.(event);
      for (const fn of this.listeners.get(name) ?? []) fn(event);
    }

    async connect() {
      const abort = new AbortController();
      this.abort = abort;
      const headers = { Accept: 'text/event-stream' };
      if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
      let response;
      try {
        response = await fetch(this.url, { headers, signal: abort.signal });
      } catch {
        if (this.readyState === 2) return;
        tally.add(this.url, null);
        this.readyState = 0;
        this.onerror?.({});
        setTimeout(() => this.readyState !== 2 && this.connect(), this.retryMs);
        return;
      }
      tally.add(this.url, response.status);
      if (response.status !== 200) {
        response.body?.cancel().catch(() => {});
        this.readyState = 2;
        this.onerror?.({});
        return;
      }
      this.readyState = 1;
      open.add(this);
      this.onopen?.({});
      let buffer = '';
      let data = null;
      let event = '';
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body) {
          buffer += decoder.decode(chunk, { stream: true });
          let newline;
          while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
            if (line === '') {
              if (data !== null) this.dispatch(event || 'message', { data: data.join('\n'), lastEventId: this.lastEventId });
              data = null;
              event = '';
            } else {
              const { field, value } = readField(line) ?? { field: '', value: '' };
              if (field === 'data') (data ??= []).push(value);
              else if (field === 'event') event = value;
              else if (field === 'id') this.lastEventId = value;
              else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
            }
          }
        }
      } catch {
        // Aborted by close(), or the connection broke: handled below like an end.
      }
      open.delete(this);
      if (this.readyState === 2) return;
      this.readyState = 0;
      this.onerror?.({});
      setTimeout(() => this.readyState !== 2 && this.connect(), this.retryMs);
    }
  };
}

// --- WebRTC, simulated ---------------------------------------------------------------------------

/**
 * Simulated WebRTC: a connection "connects" once its offer and answer are applied, and its
 * data channel carries messages to the other end in this process. Each call returns its own
 * RTCPeerConnection class with its own registry of connections.
 */
function simulatedWebRtc() {
  let nextConnection = 0;
  /** @type {Map<string, SimPeerConnection>} */
  const connections = new Map();

  class SimChannel extends EventTarget {
    constructor(pc) {
      super();
      this.pc = pc;
      this.readyState = 'connecting';
    }

    send(text) {
      if (this.readyState !== 'open') throw new Error('InvalidStateError');
      const far = this.pc.partner?.channel;
      setTimeout(() => {
        if (far?.readyState === 'open') far.dispatchEvent(Object.assign(new Event('message'), { data: text }));
      }, 0);
    }

    close() {
      if (this.readyState === 'closed') return;
      this.readyState = 'closed';
      this.dispatchEvent(new Event('close'));
    }
  }

  class SimPeerConnection extends EventTarget {
    constructor() {
      super();
      nextConnection += 1;
      this.id = `pc${nextConnection}`;
      connections.set(this.id, this);
      this.signalingState = 'stable';
      this.connectionState = 'new';
      this.iceConnectionState = 'new';
      this.localDescription = null;
      this.remoteDescription = null;
      this.partner = null;
      this.channel = null;
      this.offers = 0;
    }

    setConfiguration() {}
    addTransceiver() {
      queueMicrotask(() => this.dispatchEvent(new Event('negotiationneeded')));
      return { sender: simSender() };
    }
    addTrack() {
      return simSender();
    }
    createDataChannel() {
      this.channel = new SimChannel(this);
      return this.channel;
    }
    restartIce() {}

    async setLocalDescription() {
      await null;
      if (this.signalingState === 'have-remote-offer') {
        this.localDescription = { type: 'answer', sdp: `sim ${this.id}` };
        this.signalingState = 'stable';
        this.maybeConnect();
        return;
      }
      this.offers += 1;
      this.localDescription = { type: 'offer', sdp: `sim ${this.id}` };
      this.signalingState = 'have-local-offer';
    }

    async setRemoteDescription(description) {
      await null;
      this.remoteDescription = description;
      this.partner = connections.get(String(description.sdp).split(' ')[1]) ?? null;
      this.signalingState = description.type === 'offer' ? 'have-remote-offer' : 'stable';
      this.maybeConnect();
    }

    async addIceCandidate() {}
    /** No media flows, so there is nothing to report (the call's quality monitor asks). */
    async getStats() {
      return new Map();
    }

    /** Connects shortly after both descriptions are in place, as ICE on loopback would. */
    maybeConnect() {
      if (this.signalingState !== 'stable' || !this.remoteDescription || !this.partner) return;
      if (this.connectionState === 'connected') return;
      setTimeout(() => {
        if (this.connectionState === 'closed') return;
        this.setState('connected');
        if (this.channel && this.channel.readyState === 'connecting') {
          this.channel.readyState = 'open';
          this.channel.dispatchEvent(new Event('open'));
        }
      }, 20);
    }

    setState(state) {
      this.connectionState = state;
      this.iceConnectionState = state;
      this.dispatchEvent(new Event('connectionstatechange'));
    }

    close() {
      if (this.connectionState === 'closed') return;
      this.connectionState = 'closed';
      this.channel?.close();
      connections.delete(this.id);
      const far = this.partner;
      if (far && far.partner === this && far.connectionState !== 'closed') {
        // The far end's channel closes at once (SCTP says so); its ICE notices a moment later.
        far.channel?.close();
        setTimeout(() => far.connectionState !== 'closed' && far.setState('disconnected'), 1000);
      }
    }
  }
  return SimPeerConnection;
}

/** An RTCRtpSender with nothing to send: the call swaps tracks and the quality monitor plans bitrates. */
function simSender() {
  let parameters = { encodings: [{}] };
  return {
    replaceTrack: async () => {},
    getParameters: () => parameters,
    setParameters: async (next) => {
      parameters = next;
    },
  };
}

// --- Participants --------------------------------------------------------------------------------

const noop = () => {};
// Every view callback does nothing: the participants have no page.
const VIEW = new Proxy({}, { get: () => noop });

/**
 * @param {typeof import('../../www/rtc/call.js').createCall} createCall
 * @param {string} url
 * @param {string} room
 */
function participant(createCall, url, room) {
  const call = createCall({
    apiPath: url, room, view: VIEW, secure: false, mediaDevices: undefined,
    MediaStream: /** @type {any} */ (FakeMediaStream),
  });
  call.start();
  return call;
}

/** Whether `call` is connected, over an open channel, to exactly `others` peers. */
function connectedToAll(call, others) {
  const { peers, transport } = call.debug();
  if (transport === 'left' || transport === 'error' || peers.size !== others) return false;
  return [...peers.values()].every((peer) => peer.connectionState === 'connected' && peer.channelState === 'open');
}

/** How many of `call`'s connections are up with an open channel. */
function linksUp(call) {
  return [...call.debug().peers.values()].filter((peer) => peer.connectionState === 'connected' && peer.channelState === 'open').length;
}

async function waitFor(predicate, timeoutMs) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (predicate()) return Date.now() - start;
    await sleep(20);
  }
  return null;
}

// --- Instances -----------------------------------------------------------------------------------

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: REPO, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * @param {string} name
 * @param {string} binary
 * @param {{limit?: number, retryAfter?: number}} [qos]
 */
async function startInstance(name, binary, qos) {
  const dir = path.join(REPO, 'build', `bench-economy-${name}`);
  const port = await freePort();
  // The per-address limits raised: every participant comes from 127.0.0.1, where people on a
  // host come from addresses of their own. (Left at 4, the held streams per address would
  // keep all sixty participants to four held requests, and the limiter would measure that
  // cap instead of the calls.) The site-wide budgets stay at their defaults.
  const settings = JSON.stringify({
    data_dir: `${dir}/state/webrtc-data`, max_joins_per_minute: 100000, max_held_streams_per_address: 1000,
  });
  run('bash', ['-c', 'rm -rf "$1/state"', '-', dir]);
  const url = run(path.join(REPO, 'scripts/lib/apache.sh'), ['up', '--dir', dir, '--port', String(port), '--settings', settings, '--binary', binary]);
  if (qos) {
    run(path.join(REPO, 'scripts/lib/qos.sh'), ['install']);
    run(path.join(REPO, 'scripts/lib/qos.sh'), ['enable', '--dir', dir, '--limit', String(qos.limit), '--retry-after', String(qos.retryAfter)]);
    run(path.join(REPO, 'scripts/lib/apache.sh'), ['restart', '--dir', dir]);
  }
  return { dir, url, binary: path.join(dir, 'cgi-bin', 'webrtc.cgi'), stop: () => run(path.join(REPO, 'scripts/lib/apache.sh'), ['down', '--dir', dir]) };
}

// --- Measures ------------------------------------------------------------------------------------

async function measureHeld(createCall, instance, tally, open, quick) {
  const results = {};
  for (const size of [2, 3, 6]) {
    const room = `held${size}x${Date.now().toString(36)}`;
    const calls = [];
    for (let i = 0; i < size; i += 1) {
      calls.push(participant(createCall, instance.url, room));
      await waitFor(() => connectedToAll(calls[i], i), 15000);
    }
    const settleMs = await waitFor(() => calls.every((call) => connectedToAll(call, size - 1)), 20000);
    // Settled: whatever the client does once everyone is connected has had time to happen.
    await sleep(quick ? 4000 : 8000);
    tally.reset();
    const samples = [];
    const clientHeld = [];
    const windowMs = quick ? 5000 : 10000;
    const start = Date.now();
    while (Date.now() - start < windowMs) {
      samples.push(cgiProcesses(instance.binary));
      clientHeld.push(open.size);
      await sleep(50);
    }
    const requests = tally.total();
    results[size] = {
      connected: calls.filter((call) => connectedToAll(call, size - 1)).length,
      settleMs,
      cgiProcesses: summary(samples),
      openStreams: summary(clientHeld),
      requestsPerMinute: Math.round((requests * 60000) / windowMs),
      answers: tally.snapshot(),
    };
    log(`held, ${size} participants: CGI processes median ${results[size].cgiProcesses.median} (max ${results[size].cgiProcesses.max}), `
      + `${results[size].requestsPerMinute} requests/min, ${results[size].connected}/${size} connected`);
    for (const call of calls) call.hangUp();
    await sleep(1500);
  }
  return results;
}

async function measureLimiter(createCall, instance, tally, quick, limit, arrivalGapMs) {
  const rooms = 10;
  const size = 6;
  const calls = Array.from({ length: rooms }, () => []);
  const names = Array.from({ length: rooms }, (_, r) => `lim${r}x${Date.now().toString(36)}`);
  const all = () => calls.flat();
  const connectedCount = () => calls.reduce((n, room) => n + room.filter((call) => connectedToAll(call, size - 1)).length, 0);
  tally.reset();
  // --arrival-ms: the gap between two participants' arrivals (everyone within seconds, or
  // people trickling in as they do for a meeting).
  const arrivalMs = arrivalGapMs ?? (quick ? 200 : 400);
  // Once a second, to stderr: how the rooms are doing (for reading a run, not a figure).
  const trace = setInterval(() => {
    const everyone = calls.flat();
    const states = everyone.map((call) => call.debug());
    log(`limiter t=${((Date.now() - traceStart) / 1000).toFixed(0)}s: ${everyone.length} present, `
      + `${connectedCount()} connected to all, ${states.filter((state) => !state.quiet).length} loud, `
      + `${states.filter((state) => state.doorkeeper).length} doorkeepers, ${cgiProcesses(instance.binary)} CGI processes, `
      + `${tally.status(508)} answers 508 so far`);
  }, 1000);
  const traceStart = Date.now();
  for (let i = 0; i < rooms * size; i += 1) {
    const r = i % rooms;
    calls[r].push(participant(createCall, instance.url, names[r]));
    await sleep(arrivalMs);
  }
  await waitFor(() => connectedCount() === rooms * size, quick ? 30000 : 60000);
  const connectedAfterArrival = connectedCount();
  // Held for a while: the limiter keeps answering 508 to whoever exceeds it; who stays?
  const heldSamples = [];
  const holdMs = quick ? 20000 : 45000;
  const start = Date.now();
  while (Date.now() - start < holdMs) {
    heldSamples.push(cgiProcesses(instance.binary));
    await sleep(250);
  }
  const connectedAfterHold = connectedCount();
  // Each of the 15 connections of a room of 6 counts twice, once from each end.
  const linksUpAfterHold = all().reduce((n, call) => n + linksUp(call), 0);
  const before508 = tally.status(508);
  // Newcomers: in each room one participant leaves and another takes its place.
  const newcomers = [];
  for (let r = 0; r < rooms; r += 1) {
    calls[r].shift()?.hangUp();
    await sleep(300);
    const call = participant(createCall, instance.url, names[r]);
    calls[r].push(call);
    newcomers.push(waitFor(() => connectedToAll(call, size - 1), 30000));
  }
  const times = await Promise.all(newcomers);
  const admitted = times.filter((t) => t !== null);
  const result = {
    rooms,
    size,
    limit,
    arrivalMs,
    connectedAfterArrival,
    linksUpAfterHold,
    connectedAfterHold,
    cgiProcessesHeld: summary(heldSamples),
    newcomersAdmitted: admitted.length,
    newcomerConnectMs: summary(admitted),
    answers508: tally.status(508),
    answers508DuringArrivalAndHold: before508,
    answers: tally.snapshot(),
  };
  log(`limiter: ${connectedAfterHold}/${rooms * size} connected after ${holdMs / 1000} s, ${admitted.length}/${rooms} newcomers admitted, `
    + `${result.answers508} answers 508`);
  clearInterval(trace);
  for (const call of all()) call.hangUp();
  return result;
}

// --- A newcomer in real Chromium ----------------------------------------------------------------

const CHROMIUM_ARGS = [
  '--no-sandbox', '--headless', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-gpu', '--disable-quic', '--no-first-run',
  // Several pages side by side: none may be throttled as a background page.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

/** Runs in each page before the client: notes when `window.__want` remote tiles are connected. */
function watchConnectedTiles() {
  window.__connectedAt = null;
  const check = () => {
    const connected = document.querySelectorAll('#tiles figure.tile[data-peer][data-state="connected"]').length;
    if (window.__connectedAt === null && window.__want && connected >= window.__want) {
      window.__connectedAt = performance.timeOrigin + performance.now();
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
}

/**
 * Opens `settled` people in a room, waits until they are connected (and, with the economy,
 * quiet), then opens one more and times it. Returns ms from its navigation start, or null.
 */
async function timeNewcomer(browser, url, settled) {
  const room = `nc${settled}x${Math.random().toString(36).slice(2, 10)}`;
  const contexts = [];
  const open = async (want) => {
    const context = await browser.newContext({ viewport: { width: 640, height: 480 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.addInitScript(watchConnectedTiles);
    await page.addInitScript((n) => { window.__want = n; }, want);
    await page.goto(`${url}?room=${room}`, { timeout: 20000 });
    return page;
  };
  try {
    const pages = [];
    for (let i = 0; i < settled; i += 1) pages.push(await open(settled - 1));
    for (const page of pages) {
      await page.waitForFunction(() => window.__want === 0 || window.__connectedAt !== null, null, { timeout: 30000, polling: 50 });
    }
    // Settled: whatever the client does once everyone is connected has had time to happen.
    await sleep(5000);
    const newcomer = await open(settled);
    await newcomer.waitForFunction(() => window.__connectedAt !== null, null, { timeout: 30000, polling: 20 });
    return await newcomer.evaluate(() => window.__connectedAt - performance.timeOrigin);
  } catch (error) {
    log(`newcomer run failed: ${String(error.message).split('\n')[0]}`);
    return null;
  } finally {
    await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
  }
}

async function measureNewcomer(instance, chromiumPath, quick) {
  const { createRequire } = await import('node:module');
  const require = createRequire(path.join(REPO, 'tests/e2e/package.json'));
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
  const runs = quick ? 3 : 7;
  const result = {};
  try {
    // One warm-up, not counted: Chromium's first pages pay for start-up and compilation.
    await timeNewcomer(browser, instance.url, 1);
    for (const settled of [1, 3]) {
      const times = [];
      for (let i = 0; i < runs; i += 1) times.push(await timeNewcomer(browser, instance.url, settled));
      const ok = times.filter((t) => t !== null);
      result[settled === 1 ? 'twoPersonHandshake' : 'intoSettledThreePersonCall'] = { ...summary(ok), attempted: runs };
      log(`newcomer into a call of ${settled}: median ${summary(ok).median?.toFixed(0)} ms over ${ok.length}/${runs} runs`);
    }
  } finally {
    await browser.close();
  }
  return result;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const tally = createTally();
  const open = new Set();
  globalThis.EventSource = eventSourceClass(tally, open);
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    try {
      const response = await realFetch(input, init);
      tally.add(String(input), response.status);
      return response;
    } catch (error) {
      tally.add(String(input), null);
      throw error;
    }
  };
  // The client logs to the console when a host refuses; the measure reports counts instead.
  console.warn = noop;
  console.info = noop;
  const client = await import('../../www/rtc/call.js');
  const PeerConnection = simulatedWebRtc();
  /** @type {typeof client.createCall} */
  const createCall = (options) => client.createCall({ ...options, RTCPeerConnection: /** @type {any} */ (PeerConnection) });
  const result = { quick: args.quick, binary: args.binary };
  const started = [];
  try {
    if (args.only.includes('held')) {
      const instance = args.url ? { url: args.url, binary: args.binary } : await startInstance('plain', args.binary);
      if (!args.url) started.push(instance);
      result.held = await measureHeld(createCall, instance, tally, open, args.quick);
    }
    if (args.only.includes('limiter')) {
      const instance = await startInstance('qos', args.binary, { limit: args.limit, retryAfter: 2 });
      started.push(instance);
      result.limiter = await measureLimiter(createCall, instance, tally, args.quick, args.limit, args.arrivalMs);
    }
    if (args.only.includes('newcomer')) {
      const instance = await startInstance('browser', args.binary);
      started.push(instance);
      result.newcomer = await measureNewcomer(instance, args.chromium, args.quick);
    }
  } finally {
    await sleep(500);
    for (const instance of started) instance.stop();
  }
  const text = JSON.stringify(result, null, 1);
  if (args.out) writeFileSync(args.out, `${text}\n`);
  process.stdout.write(`${text}\n`);
  process.exit(0);
}

await main();
