// Times call set-up in headless Chromium, for webrtc-cgi and for the anchors beside it, with
// the same browser, flags and fake devices for all of them, runs interleaved (each round runs
// every system in turn, in every start mode):
// - "settled": the first person opens the room, the second opens it 2 s after the first;
// - "immediate": the second opens it right after the first;
// - "newcomer": a settled call of two, then a 3rd person 2 s after it is up, then a 4th.
// Every time runs from the navigation start of the page that joins last (its
// performance.timeOrigin) to the moment every page of the call holds a connected
// RTCPeerConnection to every other; beside it, from that page's load event.
//
//   node handshake.mjs CONFIG_JSON
//
// CONFIG_JSON: {"systems": [{"name", "url", "pairsOnly"}], "rounds", "newcomerRounds",
// "chromium"}; a system's url holds {room} where the room name goes, and may hold {key}, where
// a fresh room secret goes (a sealed room's #k= fragment); a system with pairsOnly has no
// newcomer runs. Prints one JSON line:
// {"systems": {NAME: {"settled": RESULT, "immediate": RESULT, "newcomer3": RESULT,
// "newcomer4": RESULT}}, "timelines": [...]} where RESULT is {"ms": [...], "afterLoadMs": [...],
// "cryptoMs": [...], "attempted": N, "failures": [...]}; cryptoMs is, per run, the most time
// one page spent in WebCrypto's key import, key derivation, encryption and decryption before
// the call was up (the work sealing adds); each timeline is one settled run's pages with their
// recorded events, for the critical-path profile.
// Each person gets their own browser context (nothing shared, as separate people). One
// warm-up run per system comes first and is not counted: it pays for Chromium's first page,
// compile and media start-up.
//
// The timestamps come from inside the pages: a script installed before the page's own records
// every RTCPeerConnection (and when 1, 2, 3 of them were first connected at once), the camera,
// the signaling requests, streams and sockets, with wall-clock times (timeOrigin + now) that
// are comparable across pages of one browser on one machine.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH || process.cwd(), 'x.js'));
const { chromium } = require('playwright-core');

const config = JSON.parse(process.argv[2] || '{}');
const RUN_TIMEOUT_MS = 20_000;
const SETTLE_MS = 2000;

const ARGS = [
  '--no-sandbox', '--headless', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Pages side by side: none may be throttled as a background page.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** Runs in every page before its own scripts. */
function recorder() {
  const events = [];
  const at = () => performance.timeOrigin + performance.now();
  const note = (what, detail = null) => events.push({ t: at(), what, detail });
  const pcs = [];
  const connected = [];
  const crypto = [];
  window.__bench = { events, connected, crypto };

  // The sealing work: every key import, derivation, encryption and decryption, timed. (The
  // safety code's digest comes after the connection is up and is not counted.)
  const subtle = globalThis.SubtleCrypto?.prototype;
  for (const name of subtle ? ['importKey', 'deriveKey', 'encrypt', 'decrypt'] : []) {
    const original = subtle[name];
    subtle[name] = async function timed(...args) {
      const start = performance.now();
      try {
        return await original.apply(this, args);
      } finally {
        crypto.push({ t: at(), ms: performance.now() - start });
      }
    };
  }

  /** The step a signaling message stands for, in both systems' words. */
  const stepOf = (type, data) => {
    const kind = String(type || '').toLowerCase();
    if (kind === 'description') return data?.type || 'description';
    if (kind === 'candidates' || kind === 'candidate') return 'candidates';
    return kind || null;
  };

  const recount = () => {
    const count = pcs.filter((pc) => pc.connectionState === 'connected').length;
    for (let k = 1; k <= count; k += 1) if (connected[k] === undefined) connected[k] = at();
  };
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      const id = pcs.length;
      pcs.push(this);
      note('pc create', id);
      let gathered = 0;
      this.addEventListener('icecandidate', (event) => {
        if (event.candidate && (gathered += 1) === 1) note('first candidate gathered', id);
      });
      this.addEventListener('iceconnectionstatechange', () => note(`ice ${this.iceConnectionState}`, id));
      this.addEventListener('connectionstatechange', () => {
        note(`pc ${this.connectionState}`, id);
        recount();
      });
    }

    async setLocalDescription(...args) {
      const result = await super.setLocalDescription(...args);
      note(`local ${this.localDescription?.type} set`, pcs.indexOf(this));
      return result;
    }

    async setRemoteDescription(description) {
      note(`remote ${description?.type} start`, pcs.indexOf(this));
      const result = await super.setRemoteDescription(description);
      note(`remote ${description?.type} set`, pcs.indexOf(this));
      return result;
    }
  };

  const devices = navigator.mediaDevices;
  if (devices?.getUserMedia) {
    const getUserMedia = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      note('camera start');
      try {
        return await getUserMedia(constraints);
      } finally {
        note('camera ready');
      }
    };
  }

  const originalFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url, location.href);
    let step = url.searchParams.get('mode') || (url.pathname.endsWith('/peers') ? 'peers' : null);
    let to = null;
    if (step === 'post' && typeof init?.body === 'string') {
      try {
        const message = JSON.parse(init.body);
        step = stepOf(message.type, message.data);
        to = message.to ?? null;
      } catch {
        step = 'post';
      }
    }
    if (step && step !== 'sse') note(`send ${step}`, to);
    const result = originalFetch(input, init);
    if (step && step !== 'sse') result.then(() => note(`sent ${step}`, to), () => note(`failed ${step}`, to));
    return result;
  };

  const OriginalEventSource = window.EventSource;
  window.EventSource = class extends OriginalEventSource {
    constructor(...args) {
      super(...args);
      note('stream start');
      this.addEventListener('open', () => note('stream open'));
      this.addEventListener('message', (event) => {
        try {
          const message = JSON.parse(event.data);
          note(`recv ${stepOf(message.type, message.data)}`, message.from ?? null);
        } catch {
          note('recv unreadable');
        }
      });
    }
  };

  const OriginalWebSocket = window.WebSocket;
  window.WebSocket = class extends OriginalWebSocket {
    constructor(...args) {
      super(...args);
      // PeerJS registers with the daemon by opening its socket: that is its join.
      note('send join');
      note('stream start');
      this.addEventListener('open', () => note('stream open'));
      this.addEventListener('message', (event) => {
        try {
          const message = JSON.parse(event.data);
          if (message.type === 'OPEN') note('sent join');
          else if (message.type !== 'HEARTBEAT') note(`recv ${stepOf(message.type)}`, message.src ?? null);
        } catch {
          note('recv unreadable');
        }
      });
    }

    send(data) {
      try {
        const message = JSON.parse(data);
        if (message.type !== 'HEARTBEAT') note(`send ${stepOf(message.type)}`, message.dst ?? null);
      } catch {
        // Not a PeerJS message; nothing to note.
      }
      return super.send(data);
    }
  };
}

/** Opens `url` in a fresh context, as a separate person would; navigation starts at once. */
async function openPerson(browser, url) {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  const page = await context.newPage();
  await page.addInitScript(recorder);
  return { context, page, goto: page.goto(url, { timeout: RUN_TIMEOUT_MS }) };
}

/** Waits until the page has joined (both pages expose body data-state="live" and data-peer). */
function waitJoined(person) {
  return person.page.waitForFunction(() => document.body?.dataset.state === 'live' && document.body.dataset.peer,
    null, { timeout: RUN_TIMEOUT_MS, polling: 20 });
}

/** Waits until every person holds `people.length - 1` connected peer connections at once. */
function waitAllConnected(people) {
  const others = people.length - 1;
  return Promise.all(people.map((person) => person.page.waitForFunction(
    (count) => window.__bench?.connected[count] !== undefined, others, { timeout: RUN_TIMEOUT_MS, polling: 20 },
  )));
}

/** When the last person's page started and loaded, and when everybody was connected to all. */
async function timing(people) {
  const last = people[people.length - 1];
  const others = people.length - 1;
  const done = await Promise.all(people.map((person) => person.page.evaluate((count) => window.__bench.connected[count], others)));
  const [start, loaded] = await last.page.evaluate(() => [performance.timeOrigin,
    performance.timeOrigin + (performance.getEntriesByType('navigation')[0]?.loadEventEnd || 0)]);
  const connectedAt = Math.max(...done);
  const cryptoMs = await Promise.all(people.map((person) => person.page.evaluate((until) =>
    window.__bench.crypto.filter((call) => call.t <= until).reduce((sum, call) => sum + call.ms, 0), connectedAt)));
  return { ms: connectedAt - start, afterLoadMs: connectedAt - loaded, cryptoMs: Math.max(...cryptoMs) };
}

/** Everything a page recorded, for the timeline. */
function pageRecord(person, role) {
  return person.page.evaluate((name) => {
    const nav = performance.getEntriesByType('navigation')[0];
    const scripts = performance.getEntriesByType('resource').filter((entry) => entry.initiatorType === 'script');
    return {
      role: name,
      peer: document.body.dataset.peer,
      timeOrigin: performance.timeOrigin,
      nav: nav ? {
        requestStart: nav.requestStart,
        responseStart: nav.responseStart,
        responseEnd: nav.responseEnd,
        domContentLoaded: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd,
      } : null,
      scriptsLoaded: scripts.length ? Math.max(...scripts.map((entry) => entry.responseEnd)) : null,
      connected: window.__bench.connected,
      events: window.__bench.events,
    };
  }, role);
}

async function describeFailure(people, error) {
  const states = await Promise.all(people.map((person) => person.page.evaluate(() =>
    `${document.body.dataset.state} connected=${JSON.stringify(window.__bench?.connected ?? [])}`).catch(() => 'unknown')));
  return `${String(error.message).split('\n')[0]} (pages: ${states.join('; ')})`;
}

function roomUrl(system, label) {
  const room = `hs-${process.pid}-${label}-${Math.random().toString(36).slice(2, 10)}`;
  const key = randomBytes(32).toString('base64url');
  return { room, url: system.url.replace('{room}', encodeURIComponent(room)).replace('{key}', key) };
}

/** A call of two: "settled" or "immediate". Returns {ok, ms, afterLoadMs, timeline} or {ok: false, error}. */
async function pairRun(browser, system, mode, label) {
  const { room, url } = roomUrl(system, label);
  const people = [];
  try {
    const first = await openPerson(browser, url);
    people.push(first);
    const opened = Date.now();
    if (mode === 'settled') {
      await first.goto;
      await waitJoined(first);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, SETTLE_MS - (Date.now() - opened))));
    }
    const second = await openPerson(browser, url);
    people.push(second);
    await Promise.all([first.goto, second.goto]);
    await waitAllConnected(people);
    const result = await timing(people);
    const timeline = mode === 'settled'
      ? { system: system.name, mode, room, pages: [await pageRecord(first, 'first'), await pageRecord(second, 'second')] }
      : null;
    return { ok: true, ...result, timeline };
  } catch (error) {
    return { ok: false, error: await describeFailure(people, error) };
  } finally {
    await Promise.all(people.map((person) => person.context.close().catch(() => undefined)));
  }
}

/** A settled call of two, then a 3rd and a 4th person, each 2 s after the call is up. */
async function newcomerRun(browser, system, label) {
  const { room, url } = roomUrl(system, label);
  const people = [];
  const results = {};
  try {
    for (let size = 1; size <= 4; size += 1) {
      const person = await openPerson(browser, url);
      people.push(person);
      await person.goto;
      if (size === 1) {
        await waitJoined(person);
      } else {
        await waitAllConnected(people);
        if (size >= 3) results[size] = await timing(people);
      }
      if (size < 4) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
    const pages = [];
    for (const [index, person] of people.entries()) pages.push(await pageRecord(person, `person${index + 1}`));
    return { ok: true, results, timeline: { system: system.name, mode: 'newcomer', room, pages } };
  } catch (error) {
    return { ok: false, results, error: await describeFailure(people, error) };
  } finally {
    await Promise.all(people.map((person) => person.context.close().catch(() => undefined)));
  }
}

function emptyResult() {
  return { ms: [], afterLoadMs: [], cryptoMs: [], attempted: 0, failures: [] };
}

function record(result, run) {
  result.attempted += 1;
  if (run.ok) {
    result.ms.push(run.ms);
    result.afterLoadMs.push(run.afterLoadMs);
    result.cryptoMs.push(run.cryptoMs);
  } else {
    result.failures.push(run.error);
  }
}

const browser = await chromium.launch({ executablePath: config.chromium || '/usr/bin/chromium', headless: true, args: ARGS });
const output = { systems: {}, timelines: [] };
try {
  for (const system of config.systems) {
    output.systems[system.name] = {
      settled: emptyResult(), immediate: emptyResult(), newcomer3: emptyResult(), newcomer4: emptyResult(),
    };
    await pairRun(browser, system, 'settled', 'warmup');
  }
  for (let round = 0; round < config.rounds; round += 1) {
    for (const mode of ['settled', 'immediate']) {
      for (const system of config.systems) {
        const run = await pairRun(browser, system, mode, `${round}`);
        record(output.systems[system.name][mode], run);
        if (run.timeline) output.timelines.push(run.timeline);
        process.stderr.write(`handshake ${system.name} ${mode} ${round + 1}/${config.rounds}: ${run.ok ? `${run.ms.toFixed(0)} ms` : run.error}\n`);
      }
    }
    if (round < (config.newcomerRounds ?? 0)) {
      for (const system of config.systems.filter((entry) => !entry.pairsOnly)) {
        const run = await newcomerRun(browser, system, `n${round}`);
        for (const size of [3, 4]) {
          const result = output.systems[system.name][`newcomer${size}`];
          record(result, run.results[size] ? { ok: true, ...run.results[size] } : run);
        }
        if (run.timeline) output.timelines.push(run.timeline);
        const text = run.ok ? `3rd ${run.results[3].ms.toFixed(0)} ms, 4th ${run.results[4].ms.toFixed(0)} ms` : run.error;
        process.stderr.write(`handshake ${system.name} newcomer ${round + 1}/${config.newcomerRounds}: ${text}\n`);
      }
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(output)}\n`);
