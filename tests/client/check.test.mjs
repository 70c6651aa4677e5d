import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge } from '../../www/check.js';

test('ticks spread over time mean the host streams', () => {
  const { verdict, text } = judge([0, 400, 801, 1200, 1602]);
  assert.equal(verdict, 'good');
  assert.match(text, /5 events over 1602 ms/);
});

test('ticks that arrive together mean something buffers, and the fix is named', () => {
  const { verdict, text } = judge([1600, 1601, 1601, 1602, 1602]);
  assert.equal(verdict, 'failure');
  assert.match(text, /\.htaccess/);
  assert.match(text, /hold_seconds/);
});

test('a stream cut short is not taken for a streaming host', () => {
  assert.equal(judge([0, 400, 800]).verdict, 'failure');
});
