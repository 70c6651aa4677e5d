// The browser side of the end-to-end tests: a headless Chromium with fake cameras, one browser
// context per peer (so peers share nothing, as separate people would), and page helpers that
// read the state a user would see: connected calls, playing videos, visible text.
//
// Every RTCPeerConnection a page creates is recorded (window.__e2ePeerConnections) by a script
// that runs before the client, so connection states are read from the browser itself rather
// than from what the client says about them.

import fs from 'node:fs';
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Background tabs would otherwise throttle timers and pause videos of the peers not in front.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required',
];

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export async function launchBrowser() {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath} (install it, or set CHROMIUM)`);
  }
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
}

// Runs in the page before the client: records every RTCPeerConnection, and the signaling
// traffic (messages received on event streams, messages posted) so that a failure can tell a
// lost message from a client that never sent one.
function recordPeerConnections() {
  const Original = window.RTCPeerConnection;
  const created = [];
  window.__e2ePeerConnections = created;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      created.push(this);
    }
  };

  const traffic = [];
  window.__e2eTraffic = traffic;
  const started = Date.now();
  const note = (entry) => traffic.push({ ms: Date.now() - started, ...entry });
  const summary = (text) => {
    try {
      const message = JSON.parse(text);
      return { from: message.from, to: message.to, type: message.type };
    } catch {
      return { raw: String(text).slice(0, 80) };
    }
  };
  const OriginalEventSource = window.EventSource;
  window.EventSource = class extends OriginalEventSource {
    constructor(url, init) {
      super(url, init);
      const last = new URL(url, location.href).searchParams.get('last');
      note({ kind: 'stream-open', last });
      this.addEventListener('open', () => note({ kind: 'stream-opened' }));
      this.addEventListener('message', (event) => note({ kind: 'received', id: event.lastEventId, ...summary(event.data) }));
      this.addEventListener('error', () => note({ kind: 'stream-error', readyState: this.readyState }));
    }
  };
  const originalFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url, location.href);
    const mode = url.searchParams.get('mode');
    const result = originalFetch(input, init);
    if (mode === 'post' && typeof init?.body === 'string') {
      const entry = { kind: 'posted', ...summary(init.body) };
      result.then((response) => note({ ...entry, status: response.status }), (error) => note({ ...entry, failed: String(error) }));
    } else if (mode) {
      result.then((response) => note({ kind: mode, status: response.status }), (error) => note({ kind: mode, failed: String(error) }));
    }
    return result;
  };
}

/** The page's recorded signaling traffic, one short line per entry, for failure messages. */
export async function trafficLog(peer) {
  return peer.page.evaluate(() => (window.__e2eTraffic || []).map((entry) => {
    const { ms, kind, ...rest } = entry;
    return `${ms}ms ${kind} ${Object.entries(rest).filter(([, value]) => value !== undefined && value !== null).map(([key, value]) => `${key}=${value}`).join(' ')}`;
  }).join('\n')).catch((error) => `traffic unavailable: ${error.message}`);
}

/**
 * Opens `url` in a fresh browser context, as a separate person would.
 * @returns {Promise<{name: string, context: import('playwright-core').BrowserContext,
 *   page: import('playwright-core').Page, logs: string[]}>}
 */
export async function openPeer(browser, url, { name = 'peer', viewport = DESKTOP, isMobile = false, beforeGoto } = {}) {
  const context = await browser.newContext({ viewport, isMobile, hasTouch: isMobile, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const logs = [];
  page.on('console', (message) => logs.push(`[${name} console.${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => logs.push(`[${name} pageerror] ${error.stack || error.message}`));
  page.on('dialog', (dialog) => {
    logs.push(`[${name} dialog] ${dialog.message()}`);
    dialog.dismiss().catch(() => undefined);
  });
  await page.addInitScript(recordPeerConnections);
  // A test may route the page's requests (hold one back, say) before the page makes them.
  await beforeGoto?.(page);
  await page.goto(url);
  return { name, context, page, logs };
}

/** How many of the page's RTCPeerConnections are connected. */
export async function connectedCount(peer) {
  return peer.page.evaluate(() =>
    (window.__e2ePeerConnections || []).filter((pc) => pc.connectionState === 'connected').length);
}

/** Waits until exactly `count` peer connections of the page are connected. */
export async function waitForConnected(peer, count, timeoutMs = 30_000) {
  try {
    await peer.page.waitForFunction(
      (expected) => (window.__e2ePeerConnections || [])
        .filter((pc) => pc.connectionState === 'connected').length === expected,
      count,
      { timeout: timeoutMs, polling: 250 },
    );
  } catch (error) {
    const states = await peer.page.evaluate(() =>
      (window.__e2ePeerConnections || []).map((pc) => pc.connectionState)).catch(() => 'unknown');
    throw new Error(`${peer.name}: expected ${count} connected peer connections, states: ${JSON.stringify(states)}\n${peer.logs.slice(-30).join('\n')}`, { cause: error });
  }
}

/**
 * Checks that `count` of the videos matched by `selector` show real frames: a size, and a
 * playback position that moves on during a second. Returns the number of playing videos.
 */
export async function playingVideos(peer, selector) {
  return peer.page.evaluate(async (videoSelector) => {
    const videos = [...document.querySelectorAll(videoSelector)];
    const before = videos.map((video) => video.currentTime);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    return videos.filter((video, index) =>
      video.videoWidth > 0 && video.videoHeight > 0 && !video.paused && video.currentTime > before[index]).length;
  }, selector);
}

export async function waitForPlayingVideos(peer, selector, count, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let playing = 0;
  while (Date.now() < deadline) {
    playing = await playingVideos(peer, selector);
    if (playing === count) return;
  }
  throw new Error(`${peer.name}: ${playing} of the expected ${count} videos (${selector}) are playing\n${peer.logs.slice(-30).join('\n')}`);
}

export async function closePeers(peers) {
  await Promise.all(peers.filter(Boolean).map((peer) => peer.context.close().catch(() => undefined)));
}
