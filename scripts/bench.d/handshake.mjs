// Times the two-peer call set-up in headless Chromium: the first peer opens a room and waits
// until it is live; the second opens the same room; the time runs from the second page's load
// event (and, stricter, from its navigation start) to the moment both peers show the other's
// tile as connected.
//
//   node handshake.mjs URL RUNS [CHROMIUM]
//
// Prints one JSON line: {"ms": [...], "afterLoadMs": [...], "connected": N, "attempted": N,
// "failures": [...]}; ms counts from the second page's navigation start, afterLoadMs from its
// load event.
// Each peer gets its own browser context (nothing shared, as two people). One warm-up run comes
// first and is not counted: it pays for Chromium's first page, compile and media start-up.
//
// The timestamps come from inside the pages: a MutationObserver, installed before the client
// runs, notes when a remote tile (figure.tile[data-peer]) first has data-state="connected",
// the client's documented DOM contract. Both pages run in one browser on one machine, so their
// wall clocks (performance.timeOrigin + performance.now()) are comparable.

import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.NODE_PATH || process.cwd(), 'x.js'));
const { chromium } = require('playwright-core');

const [url, runsText, chromiumPath = '/usr/bin/chromium'] = process.argv.slice(2);
const runs = Number(runsText);
const RUN_TIMEOUT_MS = 15_000;

const ARGS = [
  '--no-sandbox', '--headless', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Two pages side by side: neither may be throttled as a background page.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

function watchTiles() {
  window.__bench = { connectedAt: null };
  const check = () => {
    if (window.__bench.connectedAt === null
      && document.querySelector('#tiles figure.tile[data-peer][data-state="connected"]')) {
      window.__bench.connectedAt = performance.timeOrigin + performance.now();
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'data-peer'],
  });
}

async function openPeer(browser, roomUrl) {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  const page = await context.newPage();
  await page.addInitScript(watchTiles);
  return { context, page, goto: page.goto(roomUrl, { timeout: RUN_TIMEOUT_MS }) };
}

async function oneRun(browser, index) {
  const room = `hs-${process.pid}-${index}-${Math.random().toString(36).slice(2, 10)}`;
  const roomUrl = `${url}?room=${room}`;
  const peers = [];
  try {
    const first = await openPeer(browser, roomUrl);
    peers.push(first);
    await first.goto;
    await first.page.waitForFunction(() => document.body?.dataset.state === 'live' && document.body.dataset.peer,
      null, { timeout: RUN_TIMEOUT_MS, polling: 20 });
    const second = await openPeer(browser, roomUrl);
    peers.push(second);
    await second.goto;
    const bothConnected = () => window.__bench?.connectedAt !== null;
    await Promise.all(peers.map((peer) =>
      peer.page.waitForFunction(bothConnected, null, { timeout: RUN_TIMEOUT_MS, polling: 20 })));
    const [a, b, start, loaded] = await Promise.all([
      first.page.evaluate(() => window.__bench.connectedAt),
      second.page.evaluate(() => window.__bench.connectedAt),
      second.page.evaluate(() => performance.timeOrigin),
      second.page.evaluate(() => performance.timeOrigin
        + (performance.getEntriesByType('navigation')[0]?.loadEventEnd || 0)),
    ]);
    return { ok: true, ms: Math.max(a, b) - start, afterLoadMs: Math.max(a, b) - loaded };
  } catch (error) {
    const states = await Promise.all(peers.map((peer) => peer.page.evaluate(() =>
      [...document.querySelectorAll('#tiles figure.tile')].map((tile) => tile.dataset.state || 'self').join('/')
      + ' ' + document.body.dataset.state).catch(() => 'unknown')));
    return { ok: false, error: `${String(error.message).split('\n')[0]} (states: ${states.join(', ')})` };
  } finally {
    await Promise.all(peers.map((peer) => peer.context.close().catch(() => undefined)));
  }
}

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ARGS });
const result = { ms: [], afterLoadMs: [], connected: 0, attempted: 0, failures: [] };
try {
  await oneRun(browser, 'warmup');
  for (let index = 0; index < runs; index += 1) {
    const run = await oneRun(browser, index);
    result.attempted += 1;
    if (run.ok) {
      result.connected += 1;
      result.ms.push(run.ms);
      result.afterLoadMs.push(run.afterLoadMs);
    } else {
      result.failures.push(run.error);
    }
    process.stderr.write(`handshake run ${index + 1}/${runs}: ${run.ok ? `${run.ms.toFixed(0)} ms` : run.error}\n`);
  }
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
