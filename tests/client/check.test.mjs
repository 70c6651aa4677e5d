import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge, judgePrivate } from '../../www/check.js';

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

test('private files that answer 403 or 404 pass', () => {
  const { verdict, text } = judgePrivate([{ url: '/v/webrtc.json', status: 403 }, { url: '/v/webrtc-data-x/self-check', status: 404 }]);
  assert.equal(verdict, 'good');
  assert.match(text, /403, 404/);
});

test('a private file that is served fails and names the fix for each server', () => {
  const { verdict, text } = judgePrivate([{ url: '/v/webrtc.json', status: 404 }, { url: '/v/webrtc-data-x/self-check', status: 200 }]);
  assert.equal(verdict, 'failure');
  assert.match(text, /webrtc-data-x\/self-check/);
  assert.doesNotMatch(text, /download \/v\/webrtc.json/);
  assert.match(text, /data_dir/);
  assert.match(text, /\.htaccess/);
  assert.match(text, /nginx/);
  assert.match(text, /lighttpd/);
});
