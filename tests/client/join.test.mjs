// Joining and leaving (www/net/join.js) on a link of its own (www/net/link.js): the join's
// retries and outcomes, a join overtaken by a newer generation, and the leave's fallback.
// The transport as a whole is tested in signaling.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackoff } from '../../www/net/backoff.js';
import { requestJoin, sendLeave } from '../../www/net/join.js';
import { createLink } from '../../www/net/link.js';
import { fakeTimers, flushMicrotasks } from './fakes.mjs';

/** @param {number} status @param {unknown} [body] @param {Record<string, string>} [headers] */
function answer(status, body = {}, headers = {}) {
  return { status, headers: { get: (name) => headers[name] ?? null }, json: async () => body };
}

/** A link whose fetch gives the listed answers in turn, and what the join reported. */
function setup(answers) {
  const timers = fakeTimers();
  const urls = [];
  const fetch = async (url) => {
    urls.push(url);
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  const { link, owner } = createLink({
    apiPath: '/chat/webrtc.cgi', room: 'room1', fetch, timers, now: () => 0, onState: () => {}, rejoin: () => {},
  });
  owner.start();
  owner.newGeneration();
  const outcomes = [];
  const record = {
    joined: (info) => outcomes.push(['joined', info.peer]),
    full: () => outcomes.push(['full']),
    error: (detail) => outcomes.push(['error', detail]),
  };
  const backoff = createBackoff({ baseMs: 1000, capMs: 30000, random: () => 0.5 });
  return { timers, urls, link, owner, outcomes, record, backoff };
}

test('join: a 503 is retried after its Retry-After, a network error with backoff, then joined', async () => {
  const t = setup([answer(503, {}, { 'Retry-After': '2' }), new Error('offline'), answer(200, { peer: 'p1', token: 'tok' })]);
  const done = requestJoin(t.link, { room: 'room1', sealed: true, backoff: t.backoff }, t.record);
  await flushMicrotasks();
  assert.equal(t.urls.length, 1);
  assert.match(t.urls[0], /mode=join/);
  assert.match(t.urls[0], /sealed=1/);
  t.timers.advance(1999);
  await flushMicrotasks();
  assert.equal(t.urls.length, 1, 'Retry-After is waited for');
  t.timers.advance(1);
  await flushMicrotasks();
  assert.equal(t.urls.length, 2);
  t.timers.advance(30000);
  await flushMicrotasks();
  await done;
  assert.equal(t.urls.length, 3);
  assert.deepEqual(t.outcomes, [['joined', 'p1']]);
});

test('join: a full room, a refusal and an unreadable answer are reported, not retried', async () => {
  for (const [reply, expected] of [
    [answer(409), ['full']],
    [answer(403), ['error', 'The server refused to join this room (HTTP 403).']],
    [answer(200, { peer: 'p1' }), ['error', 'The server answered the join request with something unreadable.']],
  ]) {
    const t = setup([reply]);
    await requestJoin(t.link, { room: 'room1', sealed: false, backoff: t.backoff }, t.record);
    assert.deepEqual(t.outcomes, [expected]);
    assert.doesNotMatch(t.urls[0], /sealed/);
  }
});

test('join: an answer for an older generation, or after a leave, reports nothing', async () => {
  const t = setup([answer(200, { peer: 'p1', token: 'tok' })]);
  const done = requestJoin(t.link, { room: 'room1', sealed: false, backoff: t.backoff }, t.record);
  t.owner.newGeneration();
  await done;
  assert.deepEqual(t.outcomes, []);
  const left = setup([answer(503)]);
  const waiting = requestJoin(left.link, { room: 'room1', sealed: false, backoff: left.backoff }, left.record);
  await flushMicrotasks();
  left.owner.stop();
  left.timers.advance(30000);
  await waiting;
  assert.deepEqual(left.outcomes, []);
  assert.equal(left.urls.length, 1, 'no retry after the leave');
});

test('leave: the beacon carries the token in its body; without a beacon, fetch carries it in a header', async () => {
  const beacons = [];
  const fetches = [];
  const fetch = async (url, init) => {
    fetches.push([url, init]);
    return answer(200);
  };
  sendLeave('/leave-url', 'tok', { sendBeacon: (url, data) => beacons.push([url, data]) > 0, fetch });
  assert.deepEqual(beacons, [['/leave-url', '{"token":"tok"}']]);
  assert.equal(fetches.length, 0);
  sendLeave('/leave-url', 'tok', { sendBeacon: () => false, fetch });
  assert.equal(fetches.length, 1);
  assert.deepEqual(fetches[0][1], { method: 'POST', keepalive: true, headers: { 'X-Peer-Token': 'tok' } });
});
