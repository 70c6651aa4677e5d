// WebKit through WebKitWebDriver: Debian's WebKitGTK is built without WebRTC, so this is the
// browser that cannot make calls. Its page must say so and show no control that could only
// do nothing. (Safari itself has WebRTC; what of it is untested is listed in the README.)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { UI } from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { roomName } from './lib/server.mjs';
import { launchWebKit } from './lib/webkit.mjs';

describe('WebKitGTK (no WebRTC)', () => {
  const site = serverAndBrowser({ name: 'webkit' }, launchWebKit);

  test('the page says the browser cannot make calls and shows no call controls', { timeout: 60_000 }, async () => {
    const webkit = site.browser;
    await webkit.goto(`${site.server.url}?room=${roomName('webkit')}`);
    let seen;
    const deadline = Date.now() + 20_000;
    do {
      seen = await webkit.evaluate(`
        const [status, callOnly] = arguments;
        const shown = (element) => Boolean(element) && !element.hidden && element.getClientRects().length > 0;
        return {
          webrtc: typeof RTCPeerConnection,
          state: document.body.dataset.state,
          text: document.querySelector(status)?.textContent ?? '',
          controls: callOnly.filter((selector) => shown(document.querySelector(selector))),
        };`, UI.statusText, UI.callOnly);
      if (seen.state === 'error') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    } while (Date.now() < deadline);
    assert.equal(seen.webrtc, 'undefined', 'this WebKit really has no WebRTC');
    assert.equal(seen.state, 'error', JSON.stringify(seen));
    assert.match(seen.text, /cannot make video calls/);
    assert.deepEqual(seen.controls, [], 'no call controls or chat on a page that cannot call');
  });
});
