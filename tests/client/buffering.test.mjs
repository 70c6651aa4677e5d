// The buffering watch (www/net/buffering.js) on its own: the hold each stream asks for, and
// the verdict a response's bye brings. The event stream that uses it is tested in
// signaling.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBufferingWatch, FIRST_HOLD_SECONDS } from '../../www/net/buffering.js';

/** A watch on a clock the test sets. */
function watchAt(start = 0) {
  const clock = { now: start };
  return { clock, watch: createBufferingWatch(() => clock.now) };
}

test('buffering watch: a first response that streams switches to the full hold, once', () => {
  const { clock, watch } = watchAt();
  assert.equal(watch.hold(), String(FIRST_HOLD_SECONDS));
  watch.hello(JSON.stringify({ hold: FIRST_HOLD_SECONDS, t: 1000 }));
  clock.now = 3000;
  assert.equal(watch.bye(JSON.stringify({ t: 4000 })), 'streams');
  assert.equal(watch.hold(), undefined, 'the server\'s own hold');
  watch.hello(JSON.stringify({ hold: 20, t: 5000 }));
  clock.now = 23000;
  assert.equal(watch.bye(JSON.stringify({ t: 25000 })), null, 'nothing changes after the first');
  assert.equal(watch.polling(), false);
});

test('buffering watch: a held response seen all at once switches to polling for good', () => {
  const { clock, watch } = watchAt();
  watch.hello(JSON.stringify({ hold: FIRST_HOLD_SECONDS, t: 1000 }));
  watch.message();
  watch.message();
  clock.now = 10;
  assert.equal(watch.bye(JSON.stringify({ t: 4000 })), 'buffered');
  assert.equal(watch.polling(), true);
  assert.equal(watch.hold(), '0');
  const [record] = watch.records();
  assert.deepEqual([record.messages, record.byeAt, record.serverByeTime], [2, 10, 4000]);
  record.messages = 99;
  assert.equal(watch.records()[0].messages, 2, 'records are handed out as copies');
});

test('buffering watch: a bye without its hello, or twice, is no verdict; 20 records are kept', () => {
  const { watch } = watchAt();
  assert.equal(watch.bye('{}'), null);
  watch.hello('not json');
  assert.equal(watch.bye('{}'), 'streams');
  assert.equal(watch.bye('{}'), null, 'the response had ended already');
  for (let i = 0; i < 25; i += 1) watch.hello(JSON.stringify({ t: i }));
  assert.equal(watch.records().length, 20);
  assert.equal(watch.records()[0].serverTime, 5, 'the oldest go first');
});
