// The two halves of a signaling route on their own: the receiving order
// (www/mesh/route-order.js) and the queue of what waits for an acknowledgement
// (www/mesh/route-resend.js). The route as a whole is tested in economy-route.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReceiveOrder } from '../../www/mesh/route-order.js';
import { createResendQueue } from '../../www/mesh/route-resend.js';
import { fakeTimers } from './fakes.mjs';

/** @param {string} r @param {number} s */
const envelope = (r, s) => ({ r, s, type: 'offer', data: `${r}${s}` });

test('route order: messages are handed on in order, once, whichever came first', () => {
  const delivered = [];
  const order = createReceiveOrder((e) => delivered.push(e.data));
  assert.equal(order.take(envelope('a', 2)), true);
  assert.deepEqual(delivered, [], 'number 2 waits for number 1');
  assert.equal(order.pending(), true);
  order.take(envelope('a', 1));
  order.take(envelope('a', 1));
  order.take(envelope('a', 3));
  assert.deepEqual(delivered, ['a1', 'a2', 'a3']);
  assert.equal(order.delivered(), 3, 'what an acknowledgement confirms');
  assert.equal(order.pending(), false);
});

test('route order: a new route id from the other side replaces the old one for good', () => {
  const delivered = [];
  const order = createReceiveOrder((e) => delivered.push(e.data));
  order.take(envelope('old', 1));
  order.take(envelope('old', 3));
  assert.equal(order.take(envelope('new', 1)), true);
  assert.equal(order.pending(), false, 'what waited for the old route is dropped');
  assert.equal(order.take(envelope('old', 2)), false, 'a straggler of the old route');
  assert.deepEqual(delivered, ['old1', 'new1']);
  assert.equal(order.delivered(), 1);
});

test('resend queue: what stays unacknowledged goes through the server, in order, after the timeout', () => {
  const timers = fakeTimers();
  const resent = [];
  const queue = createResendQueue({ resend: (e) => resent.push(e.s), timers, ackTimeoutMs: 1500 });
  queue.sent(envelope('a', 1));
  queue.sent(envelope('a', 2));
  queue.sent(envelope('a', 3));
  queue.acknowledged(1);
  timers.advance(1499);
  assert.deepEqual(resent, []);
  assert.equal(queue.pending(), true);
  timers.advance(1);
  assert.deepEqual(resent, [2, 3]);
  assert.equal(queue.pending(), false);
  assert.equal(timers.pendingCount(), 0, 'no timer is left with nothing to wait for');
});

test('resend queue: everything acknowledged stops the timer; a lost link resends at once', () => {
  const timers = fakeTimers();
  const resent = [];
  const queue = createResendQueue({ resend: (e) => resent.push(e.s), timers, ackTimeoutMs: 1500 });
  queue.sent(envelope('a', 1));
  queue.acknowledged(1);
  assert.equal(timers.pendingCount(), 0);
  queue.sent(envelope('a', 2));
  queue.resendAll();
  assert.deepEqual(resent, [2]);
  queue.sent(envelope('a', 3));
  queue.close();
  timers.advance(5000);
  assert.deepEqual(resent, [2], 'a closed queue resends nothing');
  assert.equal(queue.pending(), false);
});
