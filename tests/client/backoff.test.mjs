import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackoff, parseRetryAfter } from '../../www/net/backoff.js';

test('without jitter the delays double from the base up to the cap', () => {
  const backoff = createBackoff({ baseMs: 500, capMs: 8000, jitter: 0 });
  const delays = Array.from({ length: 8 }, () => backoff.next());
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
});

test('jitter only ever shortens a delay, and by at most the jitter fraction', () => {
  for (const r of [0, 0.25, 0.5, 0.999999]) {
    const backoff = createBackoff({ baseMs: 1000, capMs: 30000, jitter: 0.3, random: () => r });
    for (let failure = 1; failure <= 10; failure += 1) {
      const nominal = Math.min(30000, 1000 * 2 ** (failure - 1));
      const delay = backoff.next();
      assert.ok(delay <= nominal, `${delay} > ${nominal}`);
      assert.ok(delay >= Math.floor(nominal * 0.7), `${delay} < 70% of ${nominal}`);
    }
  }
});

test('different random draws spread the peers of a room apart', () => {
  const early = createBackoff({ baseMs: 1000, jitter: 0.5, random: () => 0.9 });
  const late = createBackoff({ baseMs: 1000, jitter: 0.5, random: () => 0.1 });
  early.next();
  late.next();
  assert.notEqual(early.next(), late.next());
});

test('a success resets the sequence to the base delay', () => {
  const backoff = createBackoff({ baseMs: 500, capMs: 30000, jitter: 0 });
  backoff.next();
  backoff.next();
  backoff.next();
  assert.equal(backoff.failures(), 3);
  backoff.reset();
  assert.equal(backoff.failures(), 0);
  assert.equal(backoff.next(), 500);
});

test('the default policy never waits longer than its cap', () => {
  const backoff = createBackoff({ random: () => 0 });
  let last = 0;
  for (let i = 0; i < 50; i += 1) last = backoff.next();
  assert.equal(last, 30000);
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(' 0 '), 0);
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now), 0, 'a past date means now');
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter('soon'), null);
  assert.equal(parseRetryAfter('-5'), null);
});
