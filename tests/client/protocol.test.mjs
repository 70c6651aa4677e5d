import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  actionForStatus,
  apiUrl,
  createIdFilter,
  iceRefreshDelay,
  isValidRoom,
  parseJoinInfo,
  parseServerMessage,
} from '../../www/net/protocol.js';

test('an event id is processed once; repeats and older ids are dropped', () => {
  const ids = createIdFilter();
  const delivered = ['1', '2', '2', '3', '1', '3', '4', '10', '9'].filter((id) => ids.accept(id));
  assert.deepEqual(delivered, ['1', '2', '3', '4', '10']);
  assert.equal(ids.last(), 10);
});

test('events without a usable id are not processed', () => {
  const ids = createIdFilter();
  assert.equal(ids.accept(''), false);
  assert.equal(ids.accept(undefined), false);
  assert.equal(ids.accept('abc'), false);
  assert.equal(ids.last(), 0);
});

test('after a rejoin the ids of the new peer start again from 1', () => {
  const ids = createIdFilter();
  ids.accept('41');
  ids.reset();
  assert.equal(ids.accept('1'), true);
});

test('statuses map to what the client does next', () => {
  const cases = [
    [null, 'retry'], [200, 'ok'], [202, 'ok'], [404, 'rejoin'], [403, 'rejoin'], [409, 'full'],
    [410, 'gone'], [429, 'retry'], [503, 'retry'], [508, 'retry'], [500, 'retry'], [507, 'retry'],
    [400, 'drop'], [413, 'drop'], [411, 'drop'],
  ];
  for (const [status, action] of cases) assert.equal(actionForStatus(status), action, `status ${status}`);
});

test('API URLs use the page path and leave out absent parameters', () => {
  assert.equal(
    apiUrl('/cgi-bin/webrtc.cgi', { mode: 'sse', room: 'r1', peer: 'p', token: 't', last: undefined }),
    '/cgi-bin/webrtc.cgi?mode=sse&room=r1&peer=p&token=t',
  );
  assert.equal(apiUrl('/x.cgi', { mode: 'sse', last: 7, hold: '0' }), '/x.cgi?mode=sse&last=7&hold=0');
});

test('room names follow the protocol alphabet and length', () => {
  assert.equal(isValidRoom('Abc_12-x'), true);
  assert.equal(isValidRoom('a'.repeat(64)), true);
  for (const bad of ['', 'a'.repeat(65), 'a b', 'a/b', '..', '%2e', 'ä', '<b>', null]) {
    assert.equal(isValidRoom(bad), false, String(bad));
  }
});

test('server messages of the wrong shape are rejected before anyone sees them', () => {
  assert.deepEqual(parseServerMessage('{"from":"a7Yp2Lw0Qe9s","type":"join"}'), {
    from: 'a7Yp2Lw0Qe9s', type: 'join', data: undefined,
  });
  assert.deepEqual(parseServerMessage('{"from":"x","type":"candidates","data":[1]}').data, [1]);
  for (const bad of ['', 'null', '[]', '"x"', '{"type":"join"}', '{"from":"a b","type":"join"}',
    '{"from":"x","type":"<img>"}', '{"from":"x","type":7}', '{broken']) {
    assert.equal(parseServerMessage(bad), null, bad);
  }
});

test('a join answer needs a peer id and a token; the rest has defaults', () => {
  assert.equal(parseJoinInfo({ token: 't' }), null);
  assert.equal(parseJoinInfo({ peer: 'p', token: '' }), null);
  const info = parseJoinInfo({ peer: 'me', token: 't', peers: ['a', 'me', 7, 'b c'] });
  assert.deepEqual(info?.peers, ['a'], 'neither itself nor malformed ids');
  assert.equal(info?.maxPeers, 6);
  assert.equal(info?.iceTransportPolicy, 'all');
  assert.equal(parseJoinInfo({ peer: 'p', token: 't', iceTransportPolicy: 'relay' })?.iceTransportPolicy, 'relay');
});

test('ICE servers are refreshed well before they expire, never in a tight loop', () => {
  assert.equal(iceRefreshDelay(null, 0), null);
  assert.equal(iceRefreshDelay(3600, 0), 2880000);
  assert.equal(iceRefreshDelay(10, 0), 30000, 'almost expired: still not at once');
  assert.equal(iceRefreshDelay(0, 5000000), 30000, 'already expired (clock skew): not at once either');
});
