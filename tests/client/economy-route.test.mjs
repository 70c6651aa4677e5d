// The per-connection signaling route (www/mesh/route.js): which way each message goes, that
// the far end sees every message once and in order whichever way it came, and that nothing is
// lost when the data channel goes away in the middle of a renegotiation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoute, parseEnvelope } from '../../www/mesh/route.js';
import { isPolite, negotiate } from '../../www/rtc/negotiation.js';
import { FakePeerConnection, fakeTimers, flushMicrotasks } from './fakes.mjs';

/**
 * Two ends of one connection. Channel messages and server messages wait in queues until the
 * test delivers them, so a test decides what arrives when, and what is lost.
 */
function pair() {
  const timers = fakeTimers();
  const link = { up: false };
  /** @param {string} name */
  function end(name) {
    const side = {
      name,
      channel: { readyState: 'connecting', sent: /** @type {string[]} */ ([]), send: null },
      posted: /** @type {{type: string, data: any}[]} */ ([]),
      got: /** @type {{type: string, data?: unknown}[]} */ ([]),
      route: /** @type {any} */ (null),
    };
    side.channel.send = (text) => {
      if (side.channel.readyState !== 'open') throw new Error('InvalidStateError: channel not open');
      side.channel.sent.push(text);
    };
    side.route = createRoute({
      id: `route-${name}`,
      post: (message) => side.posted.push(structuredClone(message)),
      linkUp: () => link.up,
      timers,
    });
    side.route.onmessage = (message) => side.got.push(message);
    side.route.attach(side.channel);
    return side;
  }
  const a = end('a');
  const b = end('b');
  const other = (side) => (side === a ? b : a);
  /**
   * @param {string} readyState
   * @param {boolean} up
   */
  function setLink(readyState, up) {
    for (const side of [a, b]) side.channel.readyState = readyState;
    link.up = up;
    for (const side of [a, b]) side.route.linkChanged();
  }
  return {
    timers,
    a,
    b,
    /** Opens both channels and marks the connection up. */
    connect: () => setLink('open', true),
    /** The channel closes (its connection went away); what was sent on it is lost. */
    closeChannel: () => setLink('closed', false),
    /** Delivers what `side` sent over the channel (dropping what `lose` picks). */
    channelToOther(side, lose = () => false) {
      const texts = side.channel.sent.splice(0);
      for (const text of texts) if (!lose(text)) assert.equal(other(side).route.fromChannel(text), true);
    },
    /** Delivers what `side` posted through the server, as the server hands it on. */
    serverToOther(side) {
      for (const message of side.posted.splice(0)) other(side).route.fromServer(message);
    },
  };
}

const types = (messages) => messages.map((m) => m.data);

test('without an open channel every message goes through the server as before, in order', () => {
  const { a, b, serverToOther } = pair();
  for (const n of [1, 2, 3]) a.route.send({ type: 'candidates', data: n });
  assert.equal(a.channel.sent.length, 0);
  assert.deepEqual(a.posted, [1, 2, 3].map((n) => ({ type: 'candidates', data: n })), 'the plain protocol messages');
  serverToOther(a);
  assert.deepEqual(types(b.got), [1, 2, 3]);
  assert.equal(a.route.pending(), false, 'what the server took counts as delivered');
});

test('an open channel on a connected connection carries the messages, and the host sees none', () => {
  const { a, b, connect, channelToOther } = pair();
  connect();
  a.route.send({ type: 'description', data: 'offer' });
  a.route.send({ type: 'candidates', data: 'c1' });
  assert.equal(a.posted.length, 0, 'no server message while the channel is up');
  assert.equal(a.route.pending(), true, 'waiting for the acknowledgement');
  channelToOther(a);
  assert.deepEqual(types(b.got), ['offer', 'c1']);
  channelToOther(b);
  assert.equal(a.route.pending(), false, 'acknowledged');
  assert.deepEqual(a.route.counts(), { viaChannel: 2, viaServer: 0, resent: 0 });
  b.route.fromChannel(a.channel.sent[0] ?? '{"kind":"signal","r":"route-a","s":1,"type":"description","data":"offer"}');
  assert.deepEqual(types(b.got), ['offer', 'c1'], 'a repeated number is not handed on again');
});

test('an open channel whose connection is down is not used', () => {
  const { a, connect } = pair();
  connect();
  a.channel.readyState = 'open';
  const route = createRoute({ post: (m) => a.posted.push(m), linkUp: () => false, timers: fakeTimers() });
  route.attach(a.channel);
  route.send({ type: 'description', data: 'x' });
  assert.equal(a.posted.length, 1);
});

test('messages lost with a closing channel are sent again through the server, before newer ones', () => {
  const { a, b, connect, closeChannel, channelToOther, serverToOther } = pair();
  connect();
  a.route.send({ type: 'description', data: 1 });
  a.route.send({ type: 'candidates', data: 2 });
  channelToOther(a, (text) => text.includes('"data":2'));
  // b got 1; its acknowledgement never reaches a, and 2 is lost with the channel.
  b.channel.sent.length = 0;
  closeChannel();
  a.route.send({ type: 'candidates', data: 3 });
  assert.deepEqual(a.posted.map((m) => [m.type, m.data.data ?? m.data]), [['signal', 1], ['signal', 2], ['candidates', 3]],
    'the unacknowledged first, numbered, in order');
  serverToOther(a);
  assert.deepEqual(types(b.got), [1, 2, 3], 'the resent 1 is recognised as a duplicate');
});

test('a message whose acknowledgement does not come in time goes through the server too', () => {
  const { a, b, timers, connect, channelToOther, serverToOther } = pair();
  connect();
  a.route.send({ type: 'description', data: 'offer' });
  timers.advance(1499);
  assert.equal(a.posted.length, 0);
  timers.advance(1);
  assert.equal(a.posted.length, 1, 'resent once the acknowledgement is overdue');
  assert.equal(a.route.pending(), false);
  serverToOther(a);
  // The channel delivers its copy late (it was only slow): it is not handled twice.
  channelToOther(a);
  assert.deepEqual(types(b.got), ['offer']);
});

test('a channel message that overtakes the resent ones waits for them', () => {
  const { a, b, connect, closeChannel, serverToOther, channelToOther } = pair();
  connect();
  a.route.send({ type: 'description', data: 'offer' });
  // The channel loses it; the link goes down and comes back before the server delivers.
  a.channel.sent.length = 0;
  closeChannel();
  connect();
  a.route.send({ type: 'candidates', data: 'candidate' });
  channelToOther(a);
  assert.deepEqual(b.got, [], 'a candidate before its description would be refused');
  assert.equal(b.route.pending(), true, 'a gap is something pending');
  serverToOther(a);
  assert.deepEqual(types(b.got), ['offer', 'candidate']);
  assert.equal(b.route.pending(), false);
});

test('messages of a connection the other side replaced are ignored', () => {
  const { b } = pair();
  const signal = (data) => b.route.fromServer({ type: 'signal', data });
  signal({ r: 'old', s: 1, type: 'description', data: 'old offer' });
  signal({ r: 'new', s: 1, type: 'description', data: 'new offer' });
  signal({ r: 'old', s: 2, type: 'candidates', data: 'old candidate' });
  signal({ r: 'new', s: 2, type: 'candidates', data: 'new candidate' });
  assert.deepEqual(types(b.got), ['old offer', 'new offer', 'new candidate']);
});

test('malformed envelopes and foreign channel messages are not taken for signaling', () => {
  const { b } = pair();
  for (const bad of [null, 7, {}, { r: 'x', s: 0, type: 'description' }, { r: 'x', s: 1.5, type: 'a' },
    { r: 'a b', s: 1, type: 'a' }, { r: 'x', s: 1, type: 'join\n' }, { r: 'x'.repeat(33), s: 1, type: 'a' }]) {
    assert.equal(parseEnvelope(bad), null, JSON.stringify(bad));
    b.route.fromServer({ type: 'signal', data: bad });
  }
  assert.equal(b.route.fromChannel('{"kind":"chat","text":"hi"}'), false);
  assert.equal(b.route.fromChannel('not json'), false);
  assert.deepEqual(b.got, []);
});

// The whole thing with perfect negotiation on both ends: a renegotiation (a screen share) runs
// over the channel, the channel dies while the answer is on its way, and the server path
// finishes the exchange.
test('a renegotiation survives the channel closing in the middle of it', async () => {
  const { a, b, timers, connect, closeChannel, channelToOther, serverToOther } = pair();
  const pcA = new FakePeerConnection('A');
  const pcB = new FakePeerConnection('B');
  const errors = [];
  const negA = negotiate({ pc: pcA, polite: isPolite('aaaa', 'bbbb'), signaling: a.route, timers, onError: (e) => errors.push(e) });
  const negB = negotiate({ pc: pcB, polite: isPolite('bbbb', 'aaaa'), signaling: b.route, timers, onError: (e) => errors.push(e) });
  // The route delivers into the negotiator's onmessage, which replaced the test's recorder.
  const settle = async () => {
    for (let i = 0; i < 20; i += 1) await flushMicrotasks();
  };
  pcA.needNegotiation();
  await settle();
  serverToOther(a);
  await settle();
  serverToOther(b);
  await settle();
  assert.equal(pcA.signalingState, 'stable');
  assert.equal(pcB.signalingState, 'stable');

  connect();
  pcA.needNegotiation();
  await settle();
  assert.equal(a.posted.length, 0, 'the renegotiation offer went over the channel');
  channelToOther(a);
  await settle();
  assert.equal(pcB.remoteDescription.sdp, 'A offer 2');
  // B's answer is on the channel when the channel closes: it is lost there.
  closeChannel();
  assert.equal(b.posted.length, 1, 'the unacknowledged answer goes through the server');
  serverToOther(b);
  await settle();
  assert.equal(pcA.signalingState, 'stable');
  assert.equal(pcA.remoteDescription.sdp, 'B answers A offer 2');
  assert.deepEqual(errors, []);
  negA.close();
  negB.close();
});
