// The fixture of every suite that calls through a real browser: one private server
// (server.mjs's startServer) and one browser (headless Chromium unless told otherwise), started
// before the suite's tests and stopped after them, however they end.
//
// It only starts and stops; what a test does with the two is the test's own business.

import { after, before } from 'node:test';

import { launchBrowser } from './browser.mjs';
import { startServer } from './server.mjs';

/**
 * Registers, in the calling describe(), a before hook that starts the server (startServer's
 * options, or a function returning them when they are known only once earlier hooks ran) and
 * the browser, and an after hook that closes both. Returns an object whose
 * `server` and `browser` are set once the before hook has run.
 * @param {Parameters<typeof startServer>[0] | (() => Parameters<typeof startServer>[0])} serverOptions
 * @param {() => Promise<any>} [launch] starts the browser: Chromium unless told otherwise
 *   (firefox.mjs's launchFirefox, webkit.mjs's launchWebKit)
 * @returns {{server: Awaited<ReturnType<typeof startServer>>, browser: import('playwright-core').Browser}}
 */
export function serverAndBrowser(serverOptions, launch = launchBrowser) {
  const fixture = { server: undefined, browser: undefined };
  before(async () => {
    fixture.server = await startServer(typeof serverOptions === 'function' ? serverOptions() : serverOptions);
    fixture.browser = await launch();
  });
  after(async () => {
    await fixture.browser?.close();
    fixture.server?.stop();
  });
  return fixture;
}
