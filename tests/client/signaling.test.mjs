import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRST_HOLD_SECONDS, looksBuffered, recordOfHello, serverTimeOf } from '../../www/net/buffering.js';
import { createTransport } from '../../www/net/signaling.js';
import { fakeTimers, flushMicrotasks } from './fakes.mjs';

/** An EventSource double the test drives by hand. */
class FakeEventSource {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.listeners = {};
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    FakeEventSource.all.push(this);
  }
  addEventListener(name, fn) {
    (this.listeners[name] ??= []).push(fn);
  }
  close() {
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  message(id, value) {
    this.onmessage?.({ lastEventId: String(id), data: JSON.stringify(value) });
  }
  named(name, value) {
    for (const fn of this.listeners[name] ?? []) fn({ data: JSON.stringify(value) });
  }
  /** The browser gives up for good, as after any non-200 answer. */
  failForGood() {
    this.readyState = 2;
    this.onerror?.({});
  }
}

function response(status, body = {}, headers = {}) {
  return {
    status,
    headers: { get: (name) => headers[name] ?? null },
    json: async () => body,
    body: { cancel: async () => {} },
  };
}

function setup() {
  FakeEventSource.all = [];
  const timers = fakeTimers();
  const requests = [];
  /** Per mode, a function answering a request; defaults answer success. */
  const answer = {
    join: () => response(200, { peer: `peer${requests.filter((r) => r.mode === 'join').length}`, token: 'tok', peers: ['other'] }),
    post: () => response(202, { stored: 1 }),
    sse: () => response(200),
    ice: () => response(200, { iceServers: [{ urls: 'turn:fresh' }], iceServersExpireAt: null }),
  };
  const fetch = (url, init) => {
    const params = new URL(url, 'http://host').searchParams;
    const request = { url, mode: params.get('mode'), params, init, body: init.body && JSON.parse(init.body) };
    requests.push(request);
    return Promise.resolve(answer[request.mode](request));
  };
  const beacons = [];
  const events = { joined: [], messages: [], states: [], gone: [], ice: [] };
  const transport = createTransport({
    apiPath: '/cgi-bin/webrtc.cgi',
    room: 'room1',
    fetch,
    EventSource: /** @type {any} */ (FakeEventSource),
    sendBeacon: (url, body) => {
      beacons.push({ url, body });
      return true;
    },
    timers,
    now: () => timers.now(),
    random: () => 0,
    handlers: {
      joined: (info) => events.joined.push(info),
      message: (message) => events.messages.push(message),
      state: (state) => events.states.push(state),
      gone: (peer) => events.gone.push(peer),
      iceServers: (servers) => events.ice.push(servers),
    },
  });
  const settle = async () => {
    for (let i = 0; i < 10; i += 1) await flushMicrotasks();
  };
  // Time moves in small steps so that a timer set by code woken by an earlier timer also runs.
  const advance = async (ms) => {
    for (let step = 0; step < ms; step += 100) {
      timers.advance(Math.min(100, ms - step));
      await settle();
    }
  };
  return { transport, timers, requests, answer, beacons, events, settle, advance };
}

const posts = (requests) => requests.filter((r) => r.mode === 'post').map((r) => r.body.data);
const lastSource = () => FakeEventSource.all[FakeEventSource.all.length - 1];

test('joining opens the event stream for the new peer and reports the peers already there', async () => {
  const { transport, events, settle } = setup();
  transport.start();
  await settle();
  assert.equal(events.joined.length, 1);
  assert.deepEqual(events.joined[0].peers, ['other']);
  const params = new URL(lastSource().url, 'http://host').searchParams;
  assert.deepEqual(Object.fromEntries(params), { mode: 'sse', room: 'room1', peer: 'peer1', token: 'tok', hold: String(FIRST_HOLD_SECONDS) });
  lastSource().open();
  assert.equal(transport.state(), 'live');
});

test('a message delivered twice is handled once', async () => {
  const { transport, events, settle } = setup();
  transport.start();
  await settle();
  const es = lastSource();
  es.open();
  es.message(1, { from: 'other', type: 'description', data: { n: 1 } });
  es.message(2, { from: 'other', type: 'candidates', data: [] });
  es.message(2, { from: 'other', type: 'candidates', data: [] });
  es.message(1, { from: 'other', type: 'description', data: { n: 1 } });
  es.message(3, { from: 'other', type: 'leave' });
  assert.deepEqual(events.messages.map((m) => m.type), ['description', 'candidates', 'leave']);
});

test('hello and bye are recorded for each response of the stream', async () => {
  const { transport, settle, advance } = setup();
  transport.start();
  await settle();
  const es = lastSource();
  es.open();
  es.named('hello', { hold: 20, t: 5 });
  es.message(1, { from: 'other', type: 'join' });
  await advance(20000);
  es.named('bye', { t: 20005 });
  const [record] = transport.streams();
  assert.equal(record.hold, 20);
  assert.equal(record.messages, 1);
  assert.equal(record.byeAt - record.helloAt, 20000);
});

test('a held response that arrives all at once switches the session to polling', async () => {
  const { transport, settle, advance } = setup();
  transport.start();
  await settle();
  const held = lastSource();
  held.open();
  assert.equal(new URL(held.url, 'http://x').searchParams.get('hold'), String(FIRST_HOLD_SECONDS),
    'the first stream is short, so that buffering shows within seconds');
  // The server held the response 3 s, but hello and bye reach the browser 5 ms apart.
  await advance(3000);
  held.named('hello', { hold: FIRST_HOLD_SECONDS, t: 1000 });
  await advance(5);
  held.named('bye', { t: 4000 });
  assert.equal(transport.polling(), true, 'detected at the end of the first, short stream');
  const polled = lastSource();
  assert.notEqual(polled, held, 'a new stream was opened');
  assert.equal(new URL(polled.url, 'http://x').searchParams.get('hold'), '0');
});

test('a streamed held response keeps the session on held responses', async () => {
  const { transport, settle, advance } = setup();
  transport.start();
  await settle();
  const first = lastSource();
  first.open();
  first.named('hello', { hold: FIRST_HOLD_SECONDS, t: 1000 });
  await advance(3000);
  first.named('bye', { t: 4000 });
  assert.equal(transport.polling(), false);
  const held = lastSource();
  assert.notEqual(held, first, 'after the short first stream comes one with the full hold');
  assert.equal(new URL(held.url, 'http://x').searchParams.get('hold'), null, 'held as long as the server allows');
  held.open();
  held.named('hello', { hold: 20, t: 4000 });
  await advance(20000);
  held.named('bye', { t: 24000 });
  assert.equal(transport.polling(), false);
  assert.equal(lastSource(), held, 'EventSource reconnects by itself to the held URL');
});

test('posts and ICE renewals carry the token in a header, never in the URL', async () => {
  const { transport, requests, answer, settle, advance } = setup();
  answer.join = () => response(200, { peer: 'peer1', token: 'tok', peers: ['other'], iceServersExpireAt: 100 });
  transport.start();
  await settle();
  lastSource().open();
  transport.post({ to: 'other', type: 'description', data: { n: 1 } });
  await settle();
  await advance(81000);
  const sent = requests.filter((r) => r.mode === 'post' || r.mode === 'ice');
  assert.deepEqual(sent.map((r) => r.mode), ['post', 'ice']);
  for (const request of sent) {
    assert.equal(request.params.get('token'), null, request.url);
    assert.equal(request.params.get('peer'), 'peer1');
    assert.equal(request.init.headers['X-Peer-Token'], 'tok');
  }
});

test('POSTs go out one at a time, in the order they were made', async () => {
  const { transport, requests, answer, settle } = setup();
  /** @type {((value: unknown) => void)[]} */
  const pending = [];
  answer.post = () => new Promise((resolve) => pending.push(() => resolve(response(202))));
  transport.start();
  await settle();
  for (const n of [1, 2, 3]) transport.post({ to: 'other', type: 'candidates', data: n });
  await settle();
  assert.deepEqual(posts(requests), [1], 'the second waits for the first answer');
  pending.shift()();
  await settle();
  assert.deepEqual(posts(requests), [1, 2]);
  pending.shift()();
  await settle();
  pending.shift()();
  await settle();
  assert.deepEqual(posts(requests), [1, 2, 3]);
});

test('a POST refused with 503 is retried after Retry-After, and later ones wait for it', async () => {
  const { transport, requests, answer, settle, advance } = setup();
  let refusals = 1;
  answer.post = () => (refusals-- > 0 ? response(503, {}, { 'Retry-After': '2' }) : response(202));
  transport.start();
  await settle();
  transport.post({ to: 'other', type: 'description', data: 'first' });
  transport.post({ to: 'other', type: 'candidates', data: 'second' });
  await settle();
  assert.deepEqual(posts(requests), ['first']);
  await advance(1900);
  assert.deepEqual(posts(requests), ['first'], 'Retry-After is respected');
  await advance(200);
  assert.deepEqual(posts(requests), ['first', 'first', 'second']);
});

test('a POST that fails on the network is retried with backoff', async () => {
  const { transport, requests, answer, settle, advance } = setup();
  let failures = 2;
  answer.post = () => (failures-- > 0 ? Promise.reject(new TypeError('network')) : response(202));
  transport.start();
  await settle();
  transport.post({ to: 'other', type: 'description', data: 'x' });
  await settle();
  await advance(30000);
  assert.deepEqual(posts(requests), ['x', 'x', 'x']);
});

test('a 404 on a POST rejoins under a new peer id and drops messages of the old session', async () => {
  const { transport, requests, answer, events, settle } = setup();
  answer.post = () => response(404);
  transport.start();
  await settle();
  transport.post({ to: 'other', type: 'description', data: 'old' });
  transport.post({ to: 'other', type: 'candidates', data: 'old too' });
  await settle();
  assert.equal(events.joined.length, 2);
  assert.equal(transport.peerId(), 'peer2');
  assert.deepEqual(posts(requests), ['old'], 'the rest of the old queue is not sent');
  const params = new URL(lastSource().url, 'http://host').searchParams;
  assert.equal(params.get('peer'), 'peer2');
});

test('a 410 on a POST reports that the recipient has left', async () => {
  const { transport, answer, events, settle } = setup();
  answer.post = () => response(410);
  transport.start();
  await settle();
  transport.post({ to: 'other', type: 'description', data: 1 });
  await settle();
  assert.deepEqual(events.gone, ['other']);
});

test('a stream the browser closed is probed after a pause and reopened from the last id', async () => {
  const { transport, requests, answer, events, settle, advance } = setup();
  transport.start();
  await settle();
  const first = lastSource();
  first.open();
  first.message(7, { from: 'other', type: 'join' });
  answer.sse = () => response(503, {}, {});
  first.failForGood();
  assert.equal(transport.state(), 'reconnecting');
  await settle();
  assert.equal(requests.filter((r) => r.mode === 'sse').length, 0, 'no hammering right away');
  await advance(1000);
  const probes = requests.filter((r) => r.mode === 'sse');
  assert.equal(probes.length, 1);
  assert.equal(probes[0].params.get('hold'), '0');
  assert.equal(probes[0].params.get('last'), '7');
  answer.sse = () => response(200);
  await advance(2000);
  const reopened = lastSource();
  assert.notEqual(reopened, first);
  assert.equal(new URL(reopened.url, 'http://host').searchParams.get('last'), '7');
  assert.equal(events.joined.length, 1, 'same peer, no rejoin');
  reopened.open();
  assert.equal(transport.state(), 'live');
});

test('a closed stream whose probe answers 404 rejoins', async () => {
  const { transport, answer, events, settle, advance } = setup();
  transport.start();
  await settle();
  answer.sse = () => response(404);
  lastSource().failForGood();
  await advance(1000);
  assert.equal(events.joined.length, 2);
  assert.equal(transport.peerId(), 'peer2');
});

test('a full room is reported and not retried by itself', async () => {
  const { transport, requests, answer, events, settle, advance } = setup();
  answer.join = () => response(409, { error: 'room full' });
  transport.start();
  await settle();
  await advance(60000);
  assert.equal(transport.state(), 'full');
  assert.equal(requests.filter((r) => r.mode === 'join').length, 1);
  assert.equal(events.joined.length, 0);
});

test('leaving sends a beacon with the session and closes the stream', async () => {
  const { transport, beacons, settle } = setup();
  transport.start();
  await settle();
  const es = lastSource();
  transport.leave();
  assert.equal(es.readyState, 2);
  assert.equal(beacons.length, 1);
  const params = new URL(beacons[0].url, 'http://host').searchParams;
  // A beacon sends no headers: the token is in its body, never in the URL.
  assert.deepEqual(Object.fromEntries(params), { mode: 'leave', room: 'room1', peer: 'peer1' });
  assert.deepEqual(JSON.parse(beacons[0].body), { token: 'tok' });
  assert.equal(transport.state(), 'left');
});

test('a gone event on the stream rejoins at once', async () => {
  const { transport, events, settle } = setup();
  transport.start();
  await settle();
  lastSource().open();
  lastSource().named('gone', {});
  await settle();
  assert.equal(events.joined.length, 2);
  assert.equal(transport.peerId(), 'peer2');
});

test('expiring TURN credentials are refreshed before they expire', async () => {
  const { transport, requests, answer, events, settle, advance } = setup();
  // The fake clock starts at 0 ms, so the credentials expire 100 s from now.
  answer.join = () => response(200, { peer: 'p', token: 't', peers: [], iceServersExpireAt: 100 });
  transport.start();
  await settle();
  await advance(79000);
  assert.equal(requests.filter((r) => r.mode === 'ice').length, 0);
  await advance(2000);
  assert.equal(requests.filter((r) => r.mode === 'ice').length, 1);
  assert.deepEqual(events.ice, [[{ urls: 'turn:fresh' }]]);
});

test('a response is judged buffered only when held for seconds yet seen all at once', () => {
  const record = (serverTime, serverByeTime, helloAt, byeAt) => ({ helloAt, hold: 20, serverTime, messages: 0, byeAt, serverByeTime });
  assert.equal(looksBuffered(record(0, 20000, 100, 105)), true, 'held 20 s, seen within 5 ms');
  assert.equal(looksBuffered(record(0, 20000, 100, 20100)), false, 'streamed');
  assert.equal(looksBuffered(record(0, 1000, 100, 101)), false, 'a short hold proves nothing');
  assert.equal(looksBuffered(record(0, 20000, 100, null)), false, 'still open');
  assert.deepEqual(recordOfHello('{"hold":20,"t":7}', 3), { helloAt: 3, hold: 20, serverTime: 7, messages: 0, byeAt: null, serverByeTime: null });
  assert.equal(recordOfHello('not json', 3).hold, null);
  assert.equal(serverTimeOf('{"t":42}'), 42);
  assert.equal(serverTimeOf('{"t":"42"}'), null);
});
