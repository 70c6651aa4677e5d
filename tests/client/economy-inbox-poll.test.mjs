// A quiet peer's reads of its inbox (www/net/inbox-poll.js): the first read at once (which
// frees the held stream just closed), then one every quietPollSeconds; messages handled once
// and acknowledged with `last`; an expired peer joins again; a host's 508 waits for the next
// read; stopping ends the reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInboxPoll } from '../../www/net/inbox-poll.js';
import { createIdFilter } from '../../www/net/protocol.js';
import { fakeTimers, flushMicrotasks } from './fakes.mjs';

/** An answer as fetch gives it. */
function response(status, text = '') {
  return { status, headers: { get: () => null }, text: async () => text };
}

/** An event stream body as the server writes it for hold=0. */
function body(...messages) {
  const events = messages.map(([id, message]) => `id: ${id}\ndata: ${JSON.stringify(message)}\n\n`).join('');
  return `:${' '.repeat(64)}\nretry: 1000\n\nevent: hello\ndata: {"hold":0,"t":1}\n\n${events}event: bye\ndata: {"t":2}\n\n`;
}

function setup() {
  const timers = fakeTimers();
  const requests = [];
  const answers = [];
  const seen = [];
  const states = [];
  let rejoins = 0;
  /** @type {import('../../www/net/link.js').Link} */
  const link = {
    timers,
    now: () => timers.now(),
    session: () => ({ peer: 'me', token: 't' }),
    generation: () => 1,
    stopped: () => false,
    state: () => 'live',
    setState: (state) => states.push(state),
    url: (params) => `/cgi?${new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined))}`,
    sessionParams: (extra = {}) => ({ room: 'r', peer: 'me', token: 't', ...extra }),
    request: async (target) => {
      requests.push({ at: timers.now(), params: new URL(target, 'http://host').searchParams });
      return answers.shift() ?? response(200, body());
    },
    sleep: async () => {},
    rejoin: () => {
      rejoins += 1;
    },
  };
  const poll = createInboxPoll(link, { ids: createIdFilter(), onMessage: (data) => seen.push(JSON.parse(data)) });
  const settle = async () => {
    for (let i = 0; i < 5; i += 1) await flushMicrotasks();
  };
  return { timers, requests, answers, seen, states, poll, settle, rejoins: () => rejoins };
}

test('going quiet reads the inbox at once, then every interval, without a hold', async () => {
  const { timers, requests, poll, settle } = setup();
  poll.start(10000);
  await settle();
  assert.equal(requests.length, 1, 'the first read at once');
  assert.equal(requests[0].params.get('hold'), '0');
  assert.equal(requests[0].params.get('mode'), 'sse');
  timers.advance(9999);
  await settle();
  assert.equal(requests.length, 1);
  timers.advance(1);
  await settle();
  timers.advance(10000);
  await settle();
  assert.deepEqual(requests.map((r) => r.at), [0, 10000, 20000]);
  poll.stop();
  timers.advance(60000);
  await settle();
  assert.equal(requests.length, 3, 'no read after stop');
  assert.equal(poll.running(), false);
});

test('messages read are handled once, and the next read acknowledges them', async () => {
  const { timers, requests, answers, seen, poll, settle } = setup();
  answers.push(response(200, body([1, { from: 'a', type: 'join' }], [2, { from: 'a', type: 'description' }])));
  answers.push(response(200, body([2, { from: 'a', type: 'description' }], [3, { from: 'b', type: 'leave' }])));
  poll.start(10000);
  await settle();
  timers.advance(10000);
  await settle();
  assert.deepEqual(seen.map((m) => m.type), ['join', 'description', 'leave'], 'id 2 twice is handled once');
  assert.equal(requests[1].params.get('last'), '2', 'the server may drop what was read');
});

test('an expired peer joins again; a refused read waits for the next interval', async () => {
  const { timers, answers, poll, settle, rejoins, requests } = setup();
  answers.push(response(508), response(404));
  poll.start(10000);
  await settle();
  assert.equal(rejoins(), 0, 'a host over its process limit is asked again later');
  timers.advance(10000);
  await settle();
  assert.equal(rejoins(), 1, 'a 404 means this peer expired');
  assert.equal(requests.length, 2);
});

test('a peer removed while quiet (the gone event) joins again', async () => {
  const { answers, poll, settle, rejoins } = setup();
  answers.push(response(200, ':\n\nevent: hello\ndata: {}\n\nevent: gone\ndata: {}\n\n'));
  poll.start(10000);
  await settle();
  assert.equal(rejoins(), 1);
});
