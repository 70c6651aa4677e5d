// WebKit for the end-to-end tests: Debian's WebKitGTK MiniBrowser, driven by WebKitWebDriver
// (the W3C WebDriver protocol over HTTP) on a private Xvfb display. Debian builds WebKitGTK
// without WebRTC, so what can be tested is the page a browser without RTCPeerConnection gets.
// Everything started here is stopped by `close()`, and when the test process ends.

import { spawn } from 'node:child_process';
import fs from 'node:fs';

import { freePort } from './server.mjs';

export const webkitDriverPath = process.env.WEBKIT_WEBDRIVER || '/usr/bin/WebKitWebDriver';
export const miniBrowserPath = process.env.WEBKIT_BROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const xvfbPath = process.env.XVFB || '/usr/bin/Xvfb';

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function start(command, args, env) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let errors = '';
  child.stderr.on('data', (chunk) => { errors = (errors + chunk).slice(-2000); });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return { child, errors: () => errors };
}

async function until(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

/** A free X display number (its lock file is absent). */
function freeDisplay() {
  for (let display = 90 + Math.floor(Math.random() * 400); ; display += 1) {
    if (!fs.existsSync(`/tmp/.X${display}-lock`)) return display;
  }
}

/**
 * Starts Xvfb, WebKitWebDriver and a MiniBrowser session. Returns {goto, evaluate, close};
 * `evaluate(body, ...args)` runs a function body in the page and returns its result.
 */
export async function launchWebKit() {
  for (const file of [webkitDriverPath, miniBrowserPath, xvfbPath]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing (install webkit2gtk-driver and xvfb)`);
  }
  const display = freeDisplay();
  const xvfb = start(xvfbPath, [`:${display}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp']);
  await until(() => fs.existsSync(`/tmp/.X11-unix/X${display}`), 10_000, `Xvfb :${display} did not start: ${xvfb.errors()}`);
  const port = await freePort();
  const driver = start(webkitDriverPath, [`--port=${port}`], { DISPLAY: `:${display}` });
  const base = `http://127.0.0.1:${port}`;
  await until(() => fetch(`${base}/status`).then((r) => r.ok, () => false), 10_000, `WebKitWebDriver did not answer: ${driver.errors()}`);

  // A browser that cannot start (no display) leaves the driver waiting for ever: every
  // command has a deadline.
  async function call(method, path, body) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(answer.value)}`);
    return answer.value;
  }

  let session;
  try {
    // WebKitWebDriver starts the browser only when --automation is among its arguments.
    session = await call('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: miniBrowserPath, args: ['--automation'] } } },
    });
  } catch (error) {
    for (const child of [driver.child, xvfb.child]) child.kill('SIGKILL');
    throw error;
  }
  const id = session.sessionId;
  return {
    goto: (url) => call('POST', `/session/${id}/url`, { url }),
    evaluate: (body, ...args) => call('POST', `/session/${id}/execute/sync`, { script: body, args }),
    async close() {
      await call('DELETE', `/session/${id}`).catch(() => undefined);
      for (const child of [driver.child, xvfb.child]) child.kill('SIGTERM');
    },
  };
}
