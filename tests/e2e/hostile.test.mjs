// Hostile requests through Apache, as a script pretending to be a browser sends them: path
// traversal in every parameter, NUL, CR/LF, oversized and cut-short bodies, a stalled body,
// wrong methods, bad JSON, 10 000 parameters. Each gets a clear 4xx (from webrtc.cgi, or from
// Apache itself where it refuses first), never a 5xx, never a file's content, never an
// injected header; and the room keeps working. Also: the page's CSP stops inline script in a
// real browser.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { closePeers, openPeer } from './lib/browser.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { join, post, roomName, startServer } from './lib/server.mjs';

// A setting whose value would show up if webrtc.json were ever served.
const SETTINGS = { max_backlog_bytes: 876_543, max_body_bytes: 65_536 };
const SETTINGS_MARKER = '876543';

/**
 * Sends bytes exactly as given (no client-side cleaning), in parts with pauses if asked, and
 * reads the whole answer. Resolves {status, head, body}.
 * @param {URL} origin
 * @param {(string | Buffer | number)[]} parts strings/buffers to send, numbers = pause in ms
 */
function raw(origin, parts) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(origin.port), origin.hostname);
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: split < 0 ? '' : text.slice(split + 4) });
    });
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer within 30 s')));
    (async () => {
      for (const part of parts) {
        if (typeof part === 'number') await new Promise((done) => setTimeout(done, part));
        else socket.write(part);
      }
    })().catch(reject);
  });
}

function get(origin, target) {
  return raw(origin, [`GET ${target} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\n\r\n`]);
}

function postTo(origin, target, body, { length = Buffer.byteLength(body), method = 'POST' } = {}) {
  return raw(origin, [
    `${method} ${target} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
    body,
  ]);
}

/** A refusal: 4xx, nothing leaked, no injected header. */
function assertRefused(answer, label) {
  assert.ok(answer.status >= 400 && answer.status < 500, `${label}: answered ${answer.status}\n${answer.head}`);
  assert.ok(!answer.body.includes('root:x:0:0'), `${label}: /etc/passwd leaked`);
  assert.ok(!answer.body.includes(SETTINGS_MARKER), `${label}: webrtc.json leaked`);
  assert.doesNotMatch(answer.head, /^(set-cookie|x-injected):/im, `${label}: a header was injected`);
}

describe('hostile requests through Apache', () => {
  let server;
  let origin;
  let base;
  let room;
  let alice;
  let bob;
  before(async () => {
    server = await startServer({ name: 'hostile', settings: SETTINGS });
    origin = new URL(server.url);
    base = origin.pathname;
    room = roomName('hostile');
    alice = await join(server.url, room);
    bob = await join(server.url, room);
  });
  after(() => server?.stop());

  const creds = () => `room=${room}&peer=${alice.peer}&token=${alice.token}`;

  test('path traversal, NUL and CR/LF in every parameter get a 4xx and leak nothing', { timeout: 60_000 }, async () => {
    const values = ['..', '../../etc/passwd', '%2e%2e%2f%2e%2e%2fwebrtc.json', '/etc/passwd', '..%2fwebrtc.json',
      'a%00b', '%00', 'a%0d%0aSet-Cookie:%20x=1', '%0d%0aX-Injected:%201', '%ff%fe', '%F0%9F%98%80'];
    for (const value of values) {
      const queries = [
        `room=${value}`,
        `asset=${value}`,
        `mode=${value}&room=${room}`,
        `mode=sse&room=${value}&peer=${alice.peer}&token=${alice.token}&hold=0`,
        `mode=sse&room=${room}&peer=${value}&token=${alice.token}&hold=0`,
        `mode=sse&room=${room}&peer=${alice.peer}&token=${value}&hold=0`,
        `mode=sse&${creds()}&last=${value}&hold=0`,
        `mode=sse&${creds()}&hold=${value}`,
      ];
      for (const query of queries) {
        assertRefused(await get(origin, `${base}?${query}`), query);
      }
      assertRefused(await postTo(origin, `${base}?mode=join&room=${value}`, ''), `join room=${value}`);
    }
  });

  test('raw CR/LF in the request line and headers never reach the answer', { timeout: 30_000 }, async () => {
    const answer = await raw(origin, [
      `GET ${base}?room=a\r\nSet-Cookie: x=1 HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\n\r\n`,
    ]);
    assert.ok(answer.status === 400 || answer.status === 0, `answered ${answer.status}`);
    assert.doesNotMatch(answer.head, /^set-cookie:/im);
    const headerAttack = await raw(origin, [
      `GET ${base}?mode=sse&${creds()}&hold=0 HTTP/1.1\r\nHost: ${origin.host}\r\nLast-Event-ID: 1\r\n X-Injected: 1\r\nConnection: close\r\n\r\n`,
    ]);
    assert.doesNotMatch(headerAttack.head, /^x-injected:/im);
  });

  test('bodies: too large, cut short, not JSON, nested 5000 deep: each a clear 4xx', { timeout: 60_000 }, async () => {
    const target = `${base}?mode=post&${creds()}`;
    const huge = await postTo(origin, target, '', { length: 10 ** 12 });
    assert.equal(huge.status, 413, `Content-Length 10^12: ${JSON.stringify(huge)}`);
    assertRefused(huge, 'Content-Length 10^12');
    const large = await postTo(origin, target, JSON.stringify({ to: bob.peer, type: 'x', data: 'y'.repeat(200_000) }));
    assert.equal(large.status, 413, large.head);
    assert.match(large.body, /limit is 65536/);
    for (const [label, body] of [
      ['not JSON', 'hello'],
      ['XML', '<message to="x"/>'],
      ['nested 5000 deep', `{"type":"x","data":${'['.repeat(5000)}${']'.repeat(5000)}}`],
      ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
      ['two values', '{"type":"x"}{"type":"y"}'],
    ]) {
      const answer = await raw(origin, [
        `POST ${target} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
        body,
      ]);
      assertRefused(answer, label);
      assert.equal(answer.status, 400, `${label}: ${answer.head}`);
      assert.match(answer.body, /"error":/, `${label}: the answer says what was wrong`);
    }
  });

  test('wrong methods are 405 with Allow, and 10 000 parameters are refused', { timeout: 30_000 }, async () => {
    for (const [method, query, allow] of [['PUT', `mode=post&${creds()}`, 'POST'], ['DELETE', `mode=join&room=${room}`, 'POST'], ['POST', `mode=sse&${creds()}`, 'GET, HEAD']]) {
      const answer = await postTo(origin, `${base}?${query}`, '{}', { method });
      assert.equal(answer.status, 405, `${method} ${query}: ${answer.head}`);
      assert.match(answer.head, new RegExp(`^Allow: ${allow}\\r?$`, 'im'));
    }
    const many = Array.from({ length: 10_000 }, (_, n) => `p${n}=1`).join('&');
    assertRefused(await get(origin, `${base}?${many}`), '10 000 parameters');
  });

  test('a stalled body holds no lock: the room keeps working meanwhile', { timeout: 60_000 }, async () => {
    const body = JSON.stringify({ to: bob.peer, type: 'slow', data: 'late' });
    const stalled = raw(origin, [
      `POST ${base}?mode=post&${creds()} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`,
      body.slice(0, 10),
      4000,
      body.slice(10),
    ]);
    await new Promise((done) => setTimeout(done, 500));
    const started = Date.now();
    await post(server.url, room, bob, { to: alice.peer, type: 'meanwhile' });
    const carol = await join(server.url, room);
    assert.ok(Date.now() - started < 2000, `the room waited ${Date.now() - started} ms for the stalled request`);
    assert.equal((await stalled).status, 202, 'the slow message is stored once its body arrives');
    const stream = await get(origin, `${base}?mode=sse&room=${room}&peer=${bob.peer}&token=${bob.token}&hold=0`);
    assert.match(stream.body, /"type":"slow"/);
    await postTo(origin, `${base}?mode=leave&room=${room}&peer=${carol.peer}&token=${carol.token}`, '');
  });
});

describe('the page in a real browser', () => {
  const site = serverAndBrowser({ name: 'hostile-csp' });

  test('its Content-Security-Policy blocks inline script', { timeout: 60_000 }, async () => {
    const peer = await openPeer(site.browser, `${site.server.url}?room=${roomName('csp')}`, { name: 'csp' });
    try {
      const result = await peer.page.evaluate(() => new Promise((resolve) => {
        let violated = false;
        document.addEventListener('securitypolicyviolation', () => { violated = true; });
        const script = document.createElement('script');
        script.textContent = 'window.__inlineRan = true;';
        document.head.append(script);
        const handler = document.createElement('div');
        handler.setAttribute('onclick', 'window.__handlerRan = true');
        document.body.append(handler);
        handler.click();
        setTimeout(() => resolve({ inline: window.__inlineRan === true, handler: window.__handlerRan === true, violated }), 300);
      }));
      assert.equal(result.inline, false, 'an inline <script> ran');
      assert.equal(result.handler, false, 'an inline event handler ran');
      assert.equal(result.violated, true, 'the browser reported the blocked script');
    } finally {
      await closePeers([peer]);
    }
  });
});
