// The file transfer's wire format and transfer records (www/ux/file-format.js), apart from
// any channel: frames keep their id and bytes, hostile notes are dropped, and a transfer
// ends once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, newTransfer, parseNote, takeEnded, unframe } from '../../www/ux/file-format.js';

test('file frames: the id and the bytes come back, from a buffer or a view', () => {
  const payload = new Uint8Array([1, 2, 3, 250]);
  const bytes = frame(0xfeedbeef, payload);
  assert.equal(bytes.byteLength, 8);
  for (const data of [bytes, bytes.buffer, new Uint8Array(bytes.buffer, 0, 8)]) {
    const taken = unframe(data);
    assert.equal(taken?.id, 0xfeedbeef);
    assert.deepEqual([...(taken?.payload ?? [])], [1, 2, 3, 250]);
  }
  // A frame inside a larger buffer is read at its own offset.
  const larger = new Uint8Array(12);
  larger.set(frame(7, new Uint8Array([9])), 3);
  assert.deepEqual(unframe(larger.subarray(3, 8)), { id: 7, payload: new Uint8Array([9]) });
});

test('file frames: anything shorter than an id, or not bytes, is no frame', () => {
  assert.equal(unframe(new Uint8Array(3)), null);
  assert.equal(unframe('text'), null);
  assert.equal(unframe(null), null);
  assert.deepEqual(unframe(frame(1, new Uint8Array(0)))?.payload.byteLength, 0);
});

test('file notes: only a short JSON object with a kind and a 32-bit id passes', () => {
  assert.deepEqual(parseNote('{"kind":"file-end","id":3}'), { kind: 'file-end', id: 3 });
  for (const raw of [
    'not json', '[]', 'null', '{"id":1}', '{"kind":5,"id":1}', '{"kind":"file-end"}',
    '{"kind":"file-end","id":-1}', '{"kind":"file-end","id":1.5}', '{"kind":"file-end","id":4294967296}',
    `{"kind":"file-offer","id":1,"name":"${'x'.repeat(2100)}"}`, 42,
  ]) {
    assert.equal(parseNote(raw), null, String(raw).slice(0, 40));
  }
});

test('file transfers: a record starts by direction, and ends only once', () => {
  const cancel = () => {};
  const out = newTransfer(1, 'out', '../secret/report.pdf', 10, cancel);
  assert.deepEqual([out.state, out.name, out.bytes, out.blob], ['offered', 'report.pdf', 0, null]);
  assert.equal(newTransfer(2, 'in', 'a', 1, cancel).state, 'receiving');
  const table = new Map([[1, { transfer: out }]]);
  const ended = takeEnded(table, 1, 'cancelled', 'You cancelled it.');
  assert.equal(ended?.transfer.state, 'cancelled');
  assert.equal(ended?.transfer.reason, 'You cancelled it.');
  assert.equal(table.size, 0);
  assert.equal(takeEnded(table, 1, 'done', ''), null, 'a second end changes nothing');
  assert.equal(out.state, 'cancelled');
});
