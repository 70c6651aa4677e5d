import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyPlan, createLossAdapter, DEFAULT_UPLINK_BUDGET, MAX_PEER_BITRATE, MIN_PEER_BITRATE, parseBudget, planBitrates, scaleForBitrate,
} from '../../www/ux/bitrate.js';

const ids = (n) => Array.from({ length: n }, (_, i) => `p${i}`);
const total = (plans) => [...plans.values()].reduce((sum, plan) => sum + plan.maxBitrate, 0);

test('bitrate: the budget is split between peers, and the total stays within it', () => {
  for (const n of [1, 2, 3, 4, 5, 7]) {
    const plans = planBitrates(ids(n));
    assert.equal(plans.size, n);
    assert.ok(total(plans) <= DEFAULT_UPLINK_BUDGET, `${n} peers: ${total(plans)}`);
    for (const plan of plans.values()) assert.ok(plan.maxBitrate <= MAX_PEER_BITRATE);
  }
  // One peer does not get the whole 2.5 Mbit/s: 720p gains nothing past the cap.
  assert.equal(planBitrates(['a']).get('a').maxBitrate, MAX_PEER_BITRATE);
  assert.equal(planBitrates(ids(2)).get('p0').maxBitrate, 1_250_000);
  assert.equal(planBitrates(ids(5)).get('p0').maxBitrate, 500_000);
  assert.equal(planBitrates([]).size, 0);
});

test('bitrate: the resolution steps down as the share shrinks', () => {
  const scales = [1, 2, 3, 5, 9].map((n) => planBitrates(ids(n)).get('p0').scaleResolutionDownBy);
  assert.deepEqual(scales, [1, 1, 1.5, 1.5, 2]);
  assert.equal(scaleForBitrate(100_000), 4);
  assert.equal(scaleForBitrate(100_000, 'screen'), 1, 'a shared screen keeps its size');
});

test('bitrate: a custom budget, and a floor when the budget is far too small', () => {
  assert.equal(planBitrates(ids(2), { budget: 1_000_000 }).get('p0').maxBitrate, 500_000);
  assert.equal(planBitrates(ids(10), { budget: 200_000 }).get('p0').maxBitrate, MIN_PEER_BITRATE);
  assert.equal(planBitrates(ids(2), { budget: -5 }).get('p0').maxBitrate, 1_250_000, 'a nonsense budget means the default');
});

test('bitrate: a lossy peer gets less, the others keep their share', () => {
  const plans = planBitrates(ids(3), { lossFactors: new Map([['p1', 0.5]]) });
  assert.equal(plans.get('p0').maxBitrate, Math.floor(DEFAULT_UPLINK_BUDGET / 3));
  assert.equal(plans.get('p1').maxBitrate, Math.floor(DEFAULT_UPLINK_BUDGET / 6));
  assert.equal(plans.get('p1').scaleResolutionDownBy, 2);
});

test('loss: one burst changes nothing; sustained loss lowers the share step by step to a floor', () => {
  const adapter = createLossAdapter({ badLoss: 0.05, badSamples: 3, down: 0.7, floor: 0.25 });
  assert.deepEqual([0.2, 0, 0.2, 0.01].map((loss) => adapter.sample(loss)), [1, 1, 1, 1]);
  const factors = Array.from({ length: 30 }, () => adapter.sample(0.1));
  assert.equal(factors[1], 1);
  assert.ok(Math.abs(factors[2] - 0.7) < 1e-9, 'the third lossy sample in a row lowers it');
  assert.ok(Math.abs(factors[5] - 0.49) < 1e-9);
  assert.equal(factors.at(-1), 0.25);
});

test('loss: the share climbs back only after a longer run of clean samples, up to the full share', () => {
  const adapter = createLossAdapter({ badSamples: 3, goodSamples: 5, down: 0.5, up: 1.5 });
  for (let i = 0; i < 3; i += 1) adapter.sample(0.2);
  assert.equal(adapter.factor(), 0.5);
  const climb = Array.from({ length: 10 }, () => adapter.sample(0));
  assert.deepEqual(climb.slice(0, 4), [0.5, 0.5, 0.5, 0.5]);
  assert.equal(climb[4], 0.75);
  assert.equal(climb[9], 1);
  // Middling loss neither lowers nor raises it.
  adapter.sample(0.2);
  adapter.sample(0.2);
  adapter.sample(0.03);
  adapter.sample(0.2);
  assert.equal(adapter.factor(), 1);
  assert.equal(adapter.sample(NaN), 1);
});

test('sender parameters: the plan is applied to every encoding, and only when it changes anything', () => {
  const parameters = { transactionId: 't1', encodings: [{ active: true }], codecs: [] };
  const changed = applyPlan(parameters, { maxBitrate: 800_000, scaleResolutionDownBy: 1.5 });
  assert.deepEqual(changed, { transactionId: 't1', codecs: [], encodings: [{ active: true, maxBitrate: 800_000, scaleResolutionDownBy: 1.5 }] });
  assert.equal(applyPlan(changed, { maxBitrate: 820_000, scaleResolutionDownBy: 1.5 }), null, 'within 5 %');
  assert.notEqual(applyPlan(changed, { maxBitrate: 600_000, scaleResolutionDownBy: 1.5 }), null);
  assert.notEqual(applyPlan(changed, { maxBitrate: 800_000, scaleResolutionDownBy: 2 }), null);
  assert.equal(applyPlan({ transactionId: 't', encodings: [] }, { maxBitrate: 1, scaleResolutionDownBy: 1 }), null,
    'nothing to change before negotiation');
});

test('budget setting: one of the offered choices, anything else is the default', () => {
  assert.equal(parseBudget('1000000'), 1_000_000);
  assert.equal(parseBudget(5_000_000), 5_000_000);
  for (const bad of [null, undefined, '', 'fast', '123', 1e12, -1]) assert.equal(parseBudget(bad), DEFAULT_UPLINK_BUDGET, String(bad));
});
