import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPolite, negotiate } from '../../www/rtc/negotiation.js';
import { FakePeerConnection, channelPair, fakeTimers, flushMicrotasks } from './fakes.mjs';

function setup({ aId = 'aaaaaaaaaaaa', bId = 'bbbbbbbbbbbb', bWaitsForOffer = false } = {}) {
  const timers = fakeTimers();
  const { a, b, settle } = channelPair();
  const pcA = new FakePeerConnection('A');
  const pcB = new FakePeerConnection('B');
  const errors = [];
  const onError = (error) => errors.push(error);
  const negA = negotiate({ pc: pcA, polite: isPolite(aId, bId), signaling: a, timers, onError });
  const negB = negotiate({
    pc: pcB, polite: isPolite(bId, aId), signaling: b, timers, onError, waitForOffer: bWaitsForOffer,
  });
  return { timers, a, b, settle, pcA, pcB, negA, negB, errors };
}

test('exactly one side of any pair is polite, and both sides agree which', () => {
  const ids = ['k3J9xQ0aZr_1', 'a7Yp2Lw0Qe9s', 'Z-0000000000', '_zzzzzzzzzzz', 'a7Yp2Lw0Qe9t'];
  for (const x of ids) {
    for (const y of ids) {
      if (x === y) continue;
      assert.notEqual(isPolite(x, y), isPolite(y, x), `${x} vs ${y}`);
      assert.equal(isPolite(x, y), isPolite(x, y));
    }
  }
});

test('one side offers, the other answers, and both end stable', async () => {
  const { a, b, settle, pcA, pcB, errors } = setup();
  pcA.needNegotiation();
  await settle();
  assert.equal(pcA.signalingState, 'stable');
  assert.equal(pcB.signalingState, 'stable');
  assert.equal(pcB.remoteDescription.sdp, 'A offer 1');
  assert.equal(pcA.remoteDescription.sdp, 'B answers A offer 1');
  assert.deepEqual(a.sent.map((m) => m.type), ['description']);
  assert.deepEqual(b.sent.map((m) => m.data.type), ['answer']);
  assert.deepEqual(errors, []);
});

test('a side set up to answer makes no offer until it has the first one, then negotiates freely', async () => {
  const { a, b, settle, pcA, pcB, errors } = setup({ bWaitsForOffer: true });
  pcB.needNegotiation();
  await settle();
  assert.deepEqual(b.sent, [], 'no offer of its own while it waits');
  assert.equal(pcB.signalingState, 'stable');
  pcA.needNegotiation();
  await settle();
  assert.deepEqual(b.sent.map((m) => m.data.type), ['answer']);
  pcB.needNegotiation();
  await settle();
  assert.deepEqual(b.sent.map((m) => m.data.type), ['answer', 'offer'], 'later changes are its to offer');
  assert.equal(pcA.remoteDescription.sdp, 'B offer 1');
  assert.equal(pcA.signalingState, 'stable');
  assert.deepEqual(errors, []);
});

test('offer() offers at once, and the late negotiationneeded event adds no second offer', async () => {
  const { a, settle, pcA, pcB, negA, negB, errors } = setup({ bWaitsForOffer: true });
  negB.offer();
  await flushMicrotasks();
  assert.equal(pcB.offers, 0, 'the answering side does not offer, even when asked');
  negA.offer();
  pcA.needNegotiation();
  await settle();
  assert.equal(pcA.offers, 1);
  assert.deepEqual(a.sent.map((m) => m.type), ['description']);
  assert.equal(pcA.signalingState, 'stable');
  assert.equal(pcB.signalingState, 'stable');
  assert.deepEqual(errors, []);
});

test('glare: the impolite side ignores the polite offer, the polite side rolls back and answers', async () => {
  // 'aaaa…' < 'bbbb…', so A is polite and B is impolite.
  const { a, b, settle, pcA, pcB, negB, errors } = setup();
  pcA.needNegotiation();
  pcB.needNegotiation();
  await flushMicrotasks();
  assert.equal(pcA.signalingState, 'have-local-offer');
  assert.equal(pcB.signalingState, 'have-local-offer');

  // Deliver the two crossing offers before anything else.
  await b.onmessage(b.inbox.shift());
  assert.equal(negB.flags().ignoreOffer, true, 'impolite side must ignore the colliding offer');
  assert.equal(pcB.signalingState, 'have-local-offer', 'impolite side keeps its own offer');
  await a.onmessage(a.inbox.shift());
  assert.equal(pcA.rolledBack, 1, 'polite side rolls its offer back');
  assert.equal(pcA.remoteDescription.sdp, 'B offer 1');

  await settle();
  assert.equal(pcA.signalingState, 'stable');
  assert.equal(pcB.signalingState, 'stable');
  // The polite side's own changes are negotiated afterwards, in a second round it starts.
  assert.equal(pcB.remoteDescription.sdp, 'A offer 2');
  assert.equal(pcA.remoteDescription.sdp, 'B answers A offer 2');
  assert.deepEqual(errors, []);
});

test('glare: candidates of the ignored offer are dropped without an error', async () => {
  const { b, settle, pcA, pcB, errors } = setup();
  pcA.needNegotiation();
  pcB.needNegotiation();
  await flushMicrotasks();
  // B has no remote description yet: A's candidates would fail on it.
  await b.onmessage(b.inbox.shift());
  await b.onmessage({ type: 'candidates', data: [{ candidate: 'candidate:1 1 udp 1 10.0.0.1 1 typ host' }] });
  assert.deepEqual(errors, []);
  await settle();
  assert.equal(pcA.signalingState, 'stable');
  assert.equal(pcB.signalingState, 'stable');
});

test('a burst of candidates leaves as one message, after the description', async () => {
  const { a, b, timers, pcA, pcB } = setup();
  pcA.needNegotiation();
  await flushMicrotasks();
  for (let i = 0; i < 5; i += 1) pcA.gather({ candidate: `candidate:${i}`, sdpMid: '0' });
  pcA.gather(null);
  assert.deepEqual(a.sent.map((m) => m.type), ['description'], 'nothing sent before the burst ends');
  timers.advance(100);
  assert.deepEqual(a.sent.map((m) => m.type), ['description', 'candidates']);
  assert.deepEqual(a.sent[1].data.map((c) => c.candidate), [0, 1, 2, 3, 4].map((i) => `candidate:${i}`));

  // The answering side applies every candidate once it has the offer.
  await b.onmessage(b.inbox.shift());
  await b.onmessage(b.inbox.shift());
  assert.equal(pcB.addedCandidates.length, 5);
});

test('candidates pending when a new description is sent go out before it', async () => {
  const { a, settle, pcA } = setup();
  pcA.needNegotiation();
  await settle();
  pcA.gather({ candidate: 'candidate:late', sdpMid: '0' });
  pcA.restartIce();
  await flushMicrotasks();
  await flushMicrotasks();
  assert.deepEqual(a.sent.map((m) => m.type), ['description', 'candidates', 'description']);
});

test('a failed connection: the impolite side restarts ICE at once and renegotiates', async () => {
  const { b, settle, pcA, pcB, negB } = setup();
  pcA.needNegotiation();
  await settle();
  pcB.setConnectionState('failed');
  assert.equal(pcB.restartIceCalls, 1);
  assert.equal(negB.flags().restarts, 1);
  await settle();
  assert.equal(b.sent.filter((m) => m.type === 'description').length, 2, 'a restart offer was sent');
  assert.equal(pcA.signalingState, 'stable');
});

test('a failed connection: the polite side waits for the other side, then restarts itself', () => {
  const { timers, pcA } = setup();
  pcA.setConnectionState('failed');
  assert.equal(pcA.restartIceCalls, 0, 'no colliding restart offers');
  timers.advance(3000);
  assert.equal(pcA.restartIceCalls, 1, 'nobody else fixed it, so the polite side does');

  const other = setup();
  other.pcA.setConnectionState('failed');
  other.timers.advance(1000);
  other.pcA.setConnectionState('connecting');
  other.timers.advance(5000);
  assert.equal(other.pcA.restartIceCalls, 0, 'the impolite restart got things moving');
});

test('disconnected restarts ICE only if it lasts', async () => {
  const { timers, pcB } = setup();
  pcB.setConnectionState('connected');
  pcB.setConnectionState('disconnected');
  timers.advance(2000);
  pcB.setConnectionState('connected');
  timers.advance(60000);
  assert.equal(pcB.restartIceCalls, 0, 'a short hiccup heals without a restart');

  pcB.setConnectionState('disconnected');
  timers.advance(3000);
  assert.equal(pcB.restartIceCalls, 0);
  timers.advance(2000);
  assert.equal(pcB.restartIceCalls, 1, 'a lasting disconnection restarts ICE');
});

test('a connection that never comes up is restarted, impolite side first', () => {
  const { timers, pcA, pcB } = setup();
  pcA.setConnectionState('connecting');
  pcB.setConnectionState('connecting');
  timers.advance(14000);
  assert.deepEqual([pcA.restartIceCalls, pcB.restartIceCalls], [0, 0]);
  timers.advance(2000);
  assert.deepEqual([pcA.restartIceCalls, pcB.restartIceCalls], [0, 1]);
});

test('a connection an ICE restart did not bring up is handed to onStuck', () => {
  const timers = fakeTimers();
  const pc = new FakePeerConnection('B');
  let stuck = 0;
  const signaling = { send() {}, onmessage: null };
  negotiate({ pc, polite: false, signaling, timers, onStuck: () => { stuck += 1; } });
  timers.advance(15000);
  assert.deepEqual([pc.restartIceCalls, stuck], [1, 0], 'first an ICE restart');
  timers.advance(15000);
  assert.deepEqual([pc.restartIceCalls, stuck], [1, 1], 'then the owner replaces the connection');
});

test('a connection that comes up in time is left alone', () => {
  const { timers, pcA, pcB } = setup();
  timers.advance(5000);
  pcA.setConnectionState('connected');
  pcB.setConnectionState('connected');
  timers.advance(120000);
  assert.deepEqual([pcA.restartIceCalls, pcB.restartIceCalls], [0, 0]);
});

test('close stops everything: no restart, no late candidates', async () => {
  const { a, timers, pcA, negA } = setup();
  pcA.gather({ candidate: 'candidate:x', sdpMid: '0' });
  pcA.setConnectionState('disconnected');
  negA.close();
  timers.advance(60000);
  pcA.setConnectionState('failed');
  assert.equal(pcA.restartIceCalls, 0);
  assert.deepEqual(a.sent, []);
  assert.equal(a.onmessage, null);
});

test('the side that made the first offer leads ICE restarts, even when it is the polite one', () => {
  // A ('aaaa…') is polite; as the first offerer it still restarts at once, and B waits.
  const timers = fakeTimers();
  const { a, b } = channelPair();
  const pcA = new FakePeerConnection('A');
  const pcB = new FakePeerConnection('B');
  negotiate({ pc: pcA, polite: true, signaling: a, timers, leadsRestarts: true });
  negotiate({ pc: pcB, polite: false, signaling: b, timers, waitForOffer: true, leadsRestarts: false });
  pcA.setConnectionState('failed');
  pcB.setConnectionState('failed');
  assert.deepEqual([pcA.restartIceCalls, pcB.restartIceCalls], [1, 0], 'only the first offerer restarts at once');
  timers.advance(3000);
  assert.equal(pcB.restartIceCalls, 1, 'the other steps in only when the failure lasts');
});

test('regression: an answer that cannot be applied (DTLS role flipped) rolls back and replaces the connection at once', async () => {
  const timers = fakeTimers();
  const { a, b, settle } = channelPair();
  const pcA = new FakePeerConnection('A');
  const pcB = new FakePeerConnection('B');
  const errors = [];
  let unusable = 0;
  negotiate({ pc: pcA, polite: true, signaling: a, timers, onError: (e) => errors.push(e), onUnusableAnswer: () => { unusable += 1; } });
  negotiate({ pc: pcB, polite: false, signaling: b, timers, onError: (e) => errors.push(e), waitForOffer: true });
  pcA.refuseAnswers = true;
  pcA.needNegotiation();
  await settle();
  assert.equal(unusable, 1, 'the owner is told at once, not after the restart timers');
  assert.equal(pcA.rolledBack, 1, 'the offer was rolled back');
  assert.equal(pcA.signalingState, 'stable', 'nothing stays stuck in have-local-offer');
  assert.deepEqual(errors, [], 'handled, not reported as an error');
});

test('candidates of a replaced connection are dropped quietly', async () => {
  const timers = fakeTimers();
  const pc = new FakePeerConnection('B');
  const errors = [];
  const signaling = { send() {}, onmessage: null };
  negotiate({ pc, polite: false, signaling, timers, waitForOffer: true, onError: (e) => errors.push(e) });
  // Before the new connection's offer: candidates of the old one.
  await signaling.onmessage({ type: 'candidates', data: [{ candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', usernameFragment: 'old' }] });
  await signaling.onmessage({ type: 'description', data: { type: 'offer', sdp: 'v=0\r\na=ice-ufrag:new\r\n' } });
  // After it, a late one of the old connection, which the browser refuses.
  pc.addIceCandidate = async () => { throw new Error('OperationError: unknown ufrag'); };
  await signaling.onmessage({ type: 'candidates', data: [{ candidate: 'candidate:2 1 udp 1 10.0.0.1 9 typ host', usernameFragment: 'old' }] });
  assert.deepEqual(errors, []);
  // One that belongs to the current offer and still fails is reported.
  await signaling.onmessage({ type: 'candidates', data: [{ candidate: 'candidate:3 1 udp 1 10.0.0.1 9 typ host', usernameFragment: 'new' }] });
  assert.equal(errors.length, 1);
});

test('a failed DTLS transport goes to onTransportFailed instead of an ICE restart; without it, ICE restarts', () => {
  const failedTransport = (pc) => {
    pc.getSenders = () => [{ transport: { state: 'failed' } }];
    pc.setConnectionState('failed');
  };
  const timers = fakeTimers();
  const { a } = channelPair();
  const pc = new FakePeerConnection('A');
  let replaced = 0;
  negotiate({ pc, polite: false, signaling: a, timers, onTransportFailed: () => { replaced += 1; } });
  failedTransport(pc);
  timers.advance(5000);
  assert.equal(replaced, 1);
  assert.equal(pc.restartIceCalls, 0, 'no restart, which could not repair it');

  const { pcB } = setup();
  failedTransport(pcB);
  assert.equal(pcB.restartIceCalls, 1, 'the old behaviour where nobody replaces connections');
});
