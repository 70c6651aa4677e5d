import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBatcher } from '../../www/batcher.js';
import { fakeTimers } from './fakes.mjs';

function setup(delayMs = 40) {
  const timers = fakeTimers();
  const sent = [];
  const batcher = createBatcher((items) => sent.push(items), { delayMs, timers });
  return { timers, sent, batcher };
}

test('a burst of items becomes one send, after the delay', () => {
  const { timers, sent, batcher } = setup(40);
  for (let i = 0; i < 7; i += 1) {
    batcher.push(i);
    timers.advance(3);
  }
  assert.deepEqual(sent, [], 'nothing leaves before the delay');
  timers.advance(40);
  assert.deepEqual(sent, [[0, 1, 2, 3, 4, 5, 6]]);
});

test('two bursts far apart become two sends, in order', () => {
  const { timers, sent, batcher } = setup(40);
  batcher.push('a');
  batcher.push('b');
  timers.advance(500);
  batcher.push('c');
  timers.advance(500);
  assert.deepEqual(sent, [['a', 'b'], ['c']]);
});

test('the wait is counted from the first item, so a steady trickle still leaves', () => {
  const { timers, sent, batcher } = setup(40);
  for (let i = 0; i < 10; i += 1) {
    batcher.push(i);
    timers.advance(10);
  }
  assert.ok(sent.length >= 2, 'a trickle that never pauses is not held back forever');
  assert.deepEqual(sent.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].slice(0, sent.flat().length));
});

test('flush sends at once; cancel drops without sending', () => {
  const { timers, sent, batcher } = setup(40);
  batcher.push(1);
  batcher.flush();
  assert.deepEqual(sent, [[1]]);
  batcher.push(2);
  batcher.cancel();
  timers.advance(1000);
  assert.deepEqual(sent, [[1]]);
  batcher.flush();
  assert.deepEqual(sent, [[1]], 'an empty flush sends nothing');
});
