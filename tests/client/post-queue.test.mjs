// The outgoing signaling queue on its own: each recipient's messages in order, different
// recipients side by side up to PARALLEL_POSTS, a message to everyone as a barrier, and a
// refusal for one recipient holding up only that recipient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PARALLEL_POSTS, createPostQueue, readyToSend } from '../../www/net/post-queue.js';
import { flushMicrotasks } from './fakes.mjs';

/** A link whose requests the test answers by hand, one promise per POST. */
function setup() {
  const sent = [];
  const sleeps = [];
  let generation = 1;
  let rejoins = 0;
  const link = {
    generation: () => generation,
    session: () => ({ peer: 'me', token: 'tok' }),
    stopped: () => false,
    sessionRequest: () => ({ url: '/api?mode=post', headers: {} }),
    request: (url, init) => new Promise((resolve) => sent.push({ body: JSON.parse(init.body), answer: resolve })),
    state: () => 'live',
    setState: () => {},
    rejoin: () => {
      rejoins += 1;
      generation += 1;
    },
    sleep: (ms) => new Promise((resolve) => sleeps.push({ ms, wake: resolve })),
    now: () => 0,
  };
  const gone = [];
  const queue = createPostQueue(link, { random: () => 0, streamOpen: () => true, gone: (peer) => gone.push(peer) });
  const post = (to, data) => queue.push({ to, type: 'candidates', data });
  const status = (code, headers = {}) => ({ status: code, headers: { get: (name) => headers[name] ?? null } });
  const settle = async () => {
    for (let i = 0; i < 10; i += 1) await flushMicrotasks();
  };
  /** Answers the sent POST carrying `data`. */
  const answer = async (data, code = 202) => {
    const request = sent.find((entry) => entry.body.data === data && !entry.answered);
    assert.ok(request, `${data} was sent`);
    request.answered = true;
    request.answer(status(code));
    await settle();
  };
  const order = () => sent.map((entry) => entry.body.data);
  return { queue, post, answer, order, settle, sleeps, gone, rejoins: () => rejoins };
}

test('messages to different people go out side by side, each person\'s in order', async () => {
  const { post, answer, order, settle } = setup();
  post('a', 'a1');
  post('a', 'a2');
  post('b', 'b1');
  post('c', 'c1');
  await settle();
  assert.deepEqual(order(), ['a1', 'b1', 'c1'], 'one per recipient at once; a2 waits for a1');
  await answer('b1');
  assert.deepEqual(order(), ['a1', 'b1', 'c1'], 'b\'s answer does not release a\'s next message');
  await answer('a1');
  assert.deepEqual(order(), ['a1', 'b1', 'c1', 'a2']);
});

test(`at most ${PARALLEL_POSTS} POSTs are under way at once`, async () => {
  const { post, answer, order, settle } = setup();
  for (const to of ['a', 'b', 'c', 'd', 'e']) post(to, to);
  await settle();
  assert.equal(order().length, PARALLEL_POSTS);
  await answer('a');
  assert.deepEqual(order(), ['a', 'b', 'c', 'd']);
  await answer('b');
  await answer('c');
  assert.deepEqual(order(), ['a', 'b', 'c', 'd', 'e']);
});

test('a message to everyone waits for all before it, and all after it wait for it', async () => {
  const { post, answer, order, settle } = setup();
  post('a', 'a1');
  post(null, 'all');
  post('b', 'b1');
  await settle();
  assert.deepEqual(order(), ['a1']);
  await answer('a1');
  assert.deepEqual(order(), ['a1', 'all']);
  await answer('all');
  assert.deepEqual(order(), ['a1', 'all', 'b1']);
});

test('a refusal for one recipient holds up only that recipient, and is retried after its pause', async () => {
  const { post, answer, order, settle, sleeps } = setup();
  post('a', 'a1');
  post('a', 'a2');
  post('b', 'b1');
  post('b', 'b2');
  await settle();
  await answer('a1', 503);
  assert.equal(sleeps.length, 1, 'a waits before trying again');
  await answer('b1');
  assert.deepEqual(order(), ['a1', 'b1', 'b2'], 'b goes on; a2 stays behind a1');
  sleeps[0].wake();
  await settle();
  assert.deepEqual(order(), ['a1', 'b1', 'b2', 'a1'], 'a1 again, before a2');
  await answer('a1');
  assert.deepEqual(order(), ['a1', 'b1', 'b2', 'a1', 'a2']);
});

test('posts under way that all learn the session is gone ask for one rejoin, and the old queue is dropped', async () => {
  const { queue, post, answer, order, settle, rejoins } = setup();
  post('a', 'a1');
  post('b', 'b1');
  post('a', 'a2');
  await settle();
  await answer('a1', 404);
  await answer('b1', 404);
  assert.equal(rejoins(), 1);
  assert.deepEqual(order(), ['a1', 'b1'], 'a2 belonged to the old session');
  assert.equal(queue.size(), 0);
});

test('a recipient that has left is reported, and its message is not sent again', async () => {
  const { queue, post, answer, order, settle, gone } = setup();
  post('a', 'a1');
  await settle();
  await answer('a1', 410);
  assert.deepEqual(gone, ['a']);
  assert.deepEqual(order(), ['a1']);
  assert.equal(queue.size(), 0);
});

test('readyToSend: the first waiting message of each recipient with nothing ahead of it', () => {
  const item = (to, sending = false) => ({ generation: 1, body: '', to, sending });
  const queue = [item('a', true), item('a'), item('b'), item('c'), item('b'), item(null), item('d')];
  assert.deepEqual(readyToSend(queue).map((entry) => entry.to), ['b', 'c']);
  assert.deepEqual(readyToSend([item(null), item('a')]).map((entry) => entry.to), [null]);
  assert.deepEqual(readyToSend([item(null, true), item('a')]), []);
});
