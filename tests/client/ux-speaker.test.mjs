import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMutedTalkHint, createSpeakerTracker, envelopeLevel, levelBetween } from '../../www/ux/speaker.js';

const TICK = 250; // four samples a second, as the page samples

/**
 * Feeds the tracker `seconds` of samples where each participant has a fixed level, and
 * returns the state after every sample.
 */
function run(tracker, start, seconds, levels) {
  const states = [];
  for (let at = start; at < start + seconds * 1000; at += TICK) states.push({ at, ...tracker.update(Object.entries(levels), at) });
  return states;
}

test('speaker: silence highlights nobody; a voice is highlighted at its first loud sample', () => {
  const tracker = createSpeakerTracker();
  assert.deepEqual(run(tracker, 0, 2, { self: 0.002, a: 0.004 }).map((s) => s.active), Array(8).fill(null));
  const state = tracker.update([['self', 0.002], ['a', 0.1]], 2000);
  assert.equal(state.active, 'a');
  assert.deepEqual([...state.speaking], ['a']);
});

test('speaker: pauses between words keep the highlight; a real stop ends it after the hold', () => {
  const tracker = createSpeakerTracker({ holdMs: 900 });
  run(tracker, 0, 1, { a: 0.1 });
  // A 500 ms pause.
  assert.ok(run(tracker, 1000, 0.5, { a: 0 }).every((s) => s.active === 'a'));
  run(tracker, 1500, 1, { a: 0.1 });
  const after = run(tracker, 2500, 2, { a: 0 });
  const endedAt = after.find((s) => s.active === null).at;
  assert.ok(endedAt > 2500 + 900 - TICK && endedAt <= 2500 + 900 + TICK, `ended at ${endedAt}`);
  assert.equal(after.at(-1).recent, 'a', 'the last speaker is remembered for a spotlight');
});

test('speaker: a quieter second voice does not steal the highlight; a clearly louder one does, after a while', () => {
  const tracker = createSpeakerTracker({ switchMs: 1200, margin: 1.5 });
  run(tracker, 0, 1, { a: 0.1, b: 0 });
  // b talks over a, but no louder: a keeps it.
  assert.ok(run(tracker, 1000, 3, { a: 0.1, b: 0.12 }).every((s) => s.active === 'a'));
  // b is twice as loud: the highlight moves, but not at once.
  const states = run(tracker, 4000, 3, { a: 0.1, b: 0.3 });
  const movedAt = states.find((s) => s.active === 'b').at;
  assert.ok(movedAt - 4000 >= 1200, `moved after ${movedAt - 4000} ms`);
  assert.ok(movedAt - 4000 <= 1200 + 2 * TICK, `moved after ${movedAt - 4000} ms`);
});

test('speaker: when the highlighted one stops, the other speaker takes over at once', () => {
  const tracker = createSpeakerTracker({ holdMs: 500 });
  run(tracker, 0, 1, { a: 0.2, b: 0.05 });
  const states = run(tracker, 1000, 2, { a: 0, b: 0.05 });
  assert.equal(states.at(-1).active, 'b');
  assert.ok(states.find((s) => s.active === 'b').at <= 1000 + 500 + TICK);
});

test('speaker: a beep every half second (a fake microphone) counts as speaking throughout', () => {
  const tracker = createSpeakerTracker();
  const states = [];
  for (let at = 0; at < 5000; at += TICK) states.push(tracker.update([['self', 0], ['a', at % 500 === 0 ? 0.08 : 0]], at));
  assert.ok(states.every((s) => s.active === 'a'));
});

test('speaker: someone who left is forgotten, and odd levels count as silence', () => {
  const tracker = createSpeakerTracker();
  tracker.update([['a', 0.2]], 0);
  tracker.forget('a');
  assert.equal(tracker.update([['b', NaN], ['c', -1]], 250).active, null);
  assert.equal(tracker.update([['b', Infinity]], 500).active, null);
});

test('muted hint: talking while muted shows it, a cough does not, unmuting hides it at once', () => {
  const hint = createMutedTalkHint({ level: 0.03, windowMs: 1500, showMs: 4000 });
  // One loud sample (a cough) in silence.
  const cough = [0, 0, 0.2, 0, 0, 0, 0].map((level, i) => hint.update(level, true, i * TICK));
  assert.ok(cough.every((shown) => !shown));
  // A second of speech.
  const speech = [0.1, 0.1, 0.1, 0.1].map((level, i) => hint.update(level, true, 2000 + i * TICK));
  assert.equal(speech.at(-1), true);
  assert.equal(hint.update(0, true, 4000), true, 'it stays up a while after the speech');
  assert.equal(hint.update(0, true, 2750 + 4000 + 1), false, 'and goes by itself');
  [0.1, 0.1, 0.1].forEach((level, i) => hint.update(level, true, 8000 + i * TICK));
  assert.equal(hint.update(0.1, false, 8750), false, 'unmuted: never shown');
  assert.equal(hint.update(0.1, true, 9000), false, 'muted again: needs speech again first');
});

test('muted hint: dismissing hides it until the next speech', () => {
  const hint = createMutedTalkHint();
  [0.1, 0.1, 0.1].forEach((level, i) => hint.update(level, true, i * TICK));
  hint.dismiss();
  assert.equal(hint.update(0, true, 1000), false);
});

test('levels: the average between two energy samples, and the envelope of a block', () => {
  assert.equal(levelBetween(null, { energy: 1, duration: 1 }), 0);
  // A constant level of 0.1 for 0.25 s adds 0.1² x 0.25 of energy.
  assert.ok(Math.abs(levelBetween({ energy: 2, duration: 10 }, { energy: 2 + 0.01 * 0.25, duration: 10.25 }) - 0.1) < 1e-9);
  assert.equal(levelBetween({ energy: 2, duration: 10 }, { energy: 2, duration: 10 }), 0, 'no time passed');
  assert.equal(levelBetween({ energy: 3, duration: 10 }, { energy: 2, duration: 11 }), 0, 'a counter reset');
  assert.equal(envelopeLevel([]), 0);
  // Two 10 ms blocks, one with a peak of 0.6 and one silent: RMS of the peaks.
  const blocks = [...Array(480).fill(0).map((_, i) => (i === 7 ? -0.6 : 0.1)), ...Array(480).fill(0)];
  assert.ok(Math.abs(envelopeLevel(blocks) - Math.sqrt(0.36 / 2)) < 1e-12);
  assert.equal(envelopeLevel([2, -3], 1), 1, 'clipped input stays within 0 to 1');
});
