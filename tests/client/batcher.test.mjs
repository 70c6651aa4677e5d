import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBatcher } from '../../www/rtc/batcher.js';
import { fakeTimers } from './fakes.mjs';

function setup(delayMs = 40, quietMs = 5) {
  const timers = fakeTimers();
  const sent = [];
  const batcher = createBatcher((items) => sent.push(items), { delayMs, quietMs, timers });
  return { timers, sent, batcher };
}

test('a burst of items becomes one send as soon as it pauses', () => {
  const { timers, sent, batcher } = setup(40, 5);
  for (let i = 0; i < 7; i += 1) {
    batcher.push(i);
    timers.advance(1);
  }
  timers.advance(3);
  assert.deepEqual(sent, [], 'nothing leaves while the burst may go on');
  timers.advance(1);
  assert.deepEqual(sent, [[0, 1, 2, 3, 4, 5, 6]], 'the burst leaves 5 ms after its last item');
  timers.advance(100);
  assert.equal(sent.length, 1, 'and only once');
});

test('two bursts far apart become two sends, in order', () => {
  const { timers, sent, batcher } = setup(40, 5);
  batcher.push('a');
  batcher.push('b');
  timers.advance(500);
  batcher.push('c');
  timers.advance(500);
  assert.deepEqual(sent, [['a', 'b'], ['c']]);
});

test('a steady trickle that never pauses still leaves, delayMs after its first item', () => {
  const { timers, sent, batcher } = setup(40, 5);
  for (let i = 0; i < 15; i += 1) {
    batcher.push(i);
    timers.advance(4);
  }
  assert.deepEqual(sent[0], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'the first send comes 40 ms after item 0');
  timers.advance(100);
  assert.deepEqual(sent.flat(), [...Array(15).keys()], 'nothing is lost or reordered');
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
