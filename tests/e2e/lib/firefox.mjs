// Firefox for the end-to-end tests: Debian's firefox-esr, driven over WebDriver BiDi by
// puppeteer-core (no patched browser needed), with fake cameras. It is dressed as the small
// part of a playwright-core Browser that browser.mjs's openPeer and client.mjs's helpers use
// (newContext, newPage, evaluate, waitForFunction, click, fill, locator().isVisible(), ...),
// so every helper drives Firefox and Chromium alike and the tests stay browser-blind.

import fs from 'node:fs';
import puppeteer from 'puppeteer-core';

export const firefoxPath = process.env.FIREFOX || '/usr/bin/firefox-esr';

// Fake media and loopback candidates. Without a recorded permission for the camera and the
// microphone Firefox gathers no loopback candidate, so the permissions are granted as well as
// the prompt switched off.
const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.loopback': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Background tabs would otherwise throttle timers of the peers not in front.
  'dom.min_background_timeout_value': 4,
  'dom.timeout.enable_budget_timer_throttling': false,
};

export async function launchFirefox() {
  if (!fs.existsSync(firefoxPath)) {
    throw new Error(`Firefox not found at ${firefoxPath} (install firefox-esr, or set FIREFOX)`);
  }
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: firefoxPath,
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
  return {
    name: 'firefox',
    async newContext({ viewport } = {}) {
      const context = await browser.createBrowserContext();
      return {
        async newPage() {
          const page = await context.newPage();
          if (viewport) await page.setViewport(viewport);
          return dressPage(page);
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

/** A puppeteer page with the playwright-core methods the helpers call. */
function dressPage(page) {
  const visible = (selector) => page.evaluate((target) => {
    const element = document.querySelector(target);
    if (!element) return false;
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== 'hidden';
  }, selector);
  return {
    raw: page,
    on: (event, handler) => page.on(event, handler),
    goto: (url) => page.goto(url),
    reload: () => page.reload(),
    close: () => page.close(),
    screenshot: (options) => page.screenshot(options),
    addInitScript: (script) => page.evaluateOnNewDocument(script),
    evaluate: (fn, argument) => page.evaluate(fn, argument),
    $$eval: (selector, fn, argument) => page.$$eval(selector, fn, argument),
    waitForFunction: (fn, argument, { timeout, polling } = {}) =>
      page.waitForFunction(fn, { timeout, polling: polling ?? 100 }, argument),
    waitForSelector: (selector, options) => page.waitForSelector(selector, options),
    waitForTimeout: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    click: (selector) => page.click(selector),
    // As playwright's fill: set the value and fire input. Puppeteer's Locator.fill waits for
    // animation frames, which Firefox does not run for a page in a background tab.
    fill: (selector, text) => page.evaluate(([target, value]) => {
      const input = document.querySelector(target);
      input.focus();
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, [selector, text]),
    getAttribute: (selector, name) =>
      page.evaluate(([target, attribute]) => document.querySelector(target)?.getAttribute(attribute) ?? null, [selector, name]),
    inputValue: (selector) => page.evaluate((target) => document.querySelector(target)?.value ?? '', selector),
    locator: (selector) => ({ isVisible: () => visible(selector), click: () => page.click(selector) }),
  };
}
