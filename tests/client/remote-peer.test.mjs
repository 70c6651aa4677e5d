// One remote peer's connection (www/rtc/remote-peer.js): whether its link counts as up through
// an ICE restart, which way a restart's signaling goes, and when a connection whose channel
// stopped delivering is replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { followLink, followRestarts, linkUpAfter, mixedEngines } from '../../www/rtc/remote-peer.js';
import { FakePeerConnection, fakeTimers, flushMicrotasks, meshSetup } from './fakes.mjs';

test('a link is up once connected, stays up through a restart\'s "connecting", and is down when lost', () => {
  const check = (states, expected) => {
    let up = false;
    for (const state of states) up = linkUpAfter(up, state);
    assert.equal(up, expected, states.join(' → '));
  };
  check(['new'], false);
  check(['new', 'connecting'], false);
  check(['new', 'connecting', 'connected'], true);
  check(['connected', 'connecting'], true);
  check(['connected', 'checking'], true);
  check(['connected', 'completed', 'checking'], true);
  check(['connected', 'disconnected'], false);
  check(['connected', 'failed', 'connecting'], false);
  check(['connected', 'failed', 'connecting', 'connected'], true);
  check(['connected', 'closed'], false);
});

test('followLink reads the connection\'s state changes', () => {
  const pc = new FakePeerConnection('pc');
  const linkUp = followLink(pc);
  assert.equal(linkUp(), false);
  pc.setConnectionState('connecting');
  assert.equal(linkUp(), false, 'a new connection is not up before it connects');
  pc.setConnectionState('connected');
  assert.equal(linkUp(), true);
  pc.setConnectionState('connecting');
  assert.equal(linkUp(), true, 'an ICE restart of a working connection');
  pc.setConnectionState('failed');
  assert.equal(linkUp(), false);
});

/**
 * Makes `pc`'s descriptions carry ICE credentials as a browser's do (a new username fragment
 * after each restartIce(), the description in force as currentLocalDescription) and fire
 * signalingstatechange.
 */
function withIceCredentials(pc, { firefox = false } = {}) {
  const origin = firefox ? '\no=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0' : '';
  const withUfrag = () => {
    pc.localDescription = { ...pc.localDescription, sdp: `${pc.localDescription.sdp}${origin}\na=ice-ufrag:u${pc.restartIceCalls}` };
  };
  const changed = () => pc.dispatchEvent(new Event('signalingstatechange'));
  const setLocal = pc.setLocalDescription.bind(pc);
  const setRemote = pc.setRemoteDescription.bind(pc);
  withUfrag();
  pc.currentLocalDescription = pc.localDescription;
  changed();
  pc.setLocalDescription = async (description) => {
    await setLocal(description);
    withUfrag();
    changed();
  };
  pc.setRemoteDescription = async (description) => {
    await setRemote(description);
    changed();
  };
}

/**
 * A mesh 'm' that offered to 'a' (so 'a' is older, and the doorkeeper) and is connected to it
 * over an open channel, with an economy that records the quiet mode it is told.
 */
async function connectedToA({ iceCredentials = false, firefox = false } = {}) {
  const quiet = [];
  const setup = meshSetup({ economy: { capable: () => true, busy: () => false, setQuiet: (q) => quiet.push(q) } });
  setup.mesh.joined('m', ['a']);
  await flushMicrotasks();
  const [pc] = setup.connections;
  if (iceCredentials) withIceCredentials(pc, { firefox });
  setup.mesh.handle({ from: 'a', type: 'description', data: { type: 'answer', sdp: 'a answers' } });
  for (let round = 0; round < 3; round += 1) await flushMicrotasks();
  pc.setConnectionState('connected');
  pc.channels[0].open();
  return { ...setup, quiet, pc, channel: pc.channels[0] };
}

test('mixedEngines: Firefox on exactly one end', () => {
  const pc = new FakePeerConnection('pc');
  const firefox = { type: 'offer', sdp: 'v=0\no=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0' };
  const chrome = { type: 'answer', sdp: 'v=0\no=- 4611731400430051336 2 IN IP4 127.0.0.1' };
  pc.localDescription = firefox;
  assert.equal(mixedEngines(pc), false, 'nothing known of the other end yet');
  pc.remoteDescription = chrome;
  assert.equal(mixedEngines(pc), true);
  pc.remoteDescription = firefox;
  assert.equal(mixedEngines(pc), false);
  pc.localDescription = chrome;
  pc.remoteDescription = chrome;
  assert.equal(mixedEngines(pc), false);
});

test('a restart between two browsers of one engine is negotiated over the channel, without the host', async () => {
  const { posts, pc, channel } = await connectedToA({ iceCredentials: true });
  const postsBefore = posts.length;
  pc.restartIce();
  for (let round = 0; round < 3; round += 1) await flushMicrotasks();
  const sent = channel.sent.map((text) => JSON.parse(text)).filter((note) => note.kind !== 'state');
  assert.deepEqual(sent.map((note) => [note.kind, note.type, note.data?.type]), [['signal', 'description', 'offer']]);
  assert.deepEqual(posts.slice(postsBefore), []);
});

test('regression: Firefox\'s restart with Chrome wakes the peer over the channel, then signals through the host', async () => {
  const { mesh, posts, pc, channel } = await connectedToA({ iceCredentials: true, firefox: true });
  const postsBefore = posts.length;

  // Firefox moves to "connecting" as soon as it sets its restart offer.
  pc.restartIce();
  pc.setConnectionState('connecting');
  for (let round = 0; round < 3; round += 1) await flushMicrotasks();

  assert.equal(pc.signalingState, 'have-local-offer');
  const sent = channel.sent.map((text) => JSON.parse(text)).filter((note) => note.kind !== 'state');
  assert.deepEqual(sent, [{ kind: 'mesh', note: 'wake', peer: 'm' }], 'one wake note on the channel, no signaling');
  assert.deepEqual(posts.slice(postsBefore).map((p) => [p.type, p.data.type]), [['description', 'offer']],
    'the restart offer went through the host');
  assert.equal(mesh.doorkeeper(), false, 'the peer counts as linked through the restart');
});

test('a wake note keeps a quiet peer\'s stream held for a moment', async () => {
  const { quiet, timers, channel } = await connectedToA();
  timers.advance(2500);
  assert.deepEqual(quiet, [true], 'settled and quiet');
  channel.receive(JSON.stringify({ kind: 'mesh', note: 'wake', peer: 'a' }));
  assert.deepEqual(quiet, [true, false], 'loud at once, to hear the offer coming through the host');
  timers.advance(1000);
  assert.deepEqual(quiet, [true, false]);
  timers.advance(6000);
  assert.deepEqual(quiet, [true, false, true], 'and quiet again once nothing more came');
});

/** connectedToA, that has just sent a renegotiation's offer on the channel. */
async function offerOnChannel() {
  const setup = await connectedToA();
  setup.pc.needNegotiation();
  for (let round = 0; round < 3; round += 1) await flushMicrotasks();
  return setup;
}

test('regression: a channel that stops acknowledging on a connected connection gets the connection replaced', async () => {
  const { posts, connections, timers } = await offerOnChannel();
  assert.equal(posts.filter((p) => p.type === 'signal').length, 0);
  timers.advance(1500);
  assert.deepEqual(posts.filter((p) => p.type === 'signal').map((p) => p.data.data.type), ['offer'],
    'the unacknowledged offer goes through the host');
  timers.advance(4999);
  assert.equal(connections.length, 1, 'the channel may still recover by itself');
  timers.advance(1);
  await flushMicrotasks();
  assert.equal(connections.length, 2, 'but when it stays silent the connection is replaced');
  assert.deepEqual(posts.slice(-2).map((p) => [p.type, p.data?.type]), [['reset', undefined], ['description', 'offer']]);
});

test('a channel whose acknowledgement comes late keeps its connection', async () => {
  const { connections, timers, channel } = await offerOnChannel();
  timers.advance(1500);
  channel.receive(JSON.stringify({ kind: 'ack', r: 'whatever', s: 1 }));
  timers.advance(10_000);
  assert.equal(connections.length, 1);
});

test('messages resent because the channel closed do not replace the connection', async () => {
  const { posts, connections, timers, channel } = await offerOnChannel();
  channel.close();
  timers.advance(0);
  await flushMicrotasks();
  assert.equal(posts.filter((p) => p.type === 'signal').length, 1, 'the offer went again through the host');
  assert.equal(connections.length, 1, 'the connection stays: the route already took the server path');
});

test('followRestarts: new ICE credentials from either side start a restart, which ends a while after signaling is stable', () => {
  const timers = fakeTimers();
  const pc = new FakePeerConnection('pc');
  let ended = 0;
  const restarting = followRestarts(pc, timers, () => { ended += 1; });
  const describe = (state, local, remote) => {
    pc.signalingState = state;
    pc.localDescription = local ? { type: 'answer', sdp: `a=ice-ufrag:${local}` } : null;
    pc.remoteDescription = remote ? { type: 'offer', sdp: `a=ice-ufrag:${remote}` } : null;
    pc.dispatchEvent(new Event('signalingstatechange'));
  };
  describe('have-remote-offer', null, 'r1');
  describe('stable', 'l1', 'r1');
  assert.equal(restarting(), false, 'the first exchange is no restart');
  describe('have-remote-offer', 'l1', 'r2');
  assert.equal(restarting(), true, 'the other side restarts: this side answers through the host');
  describe('stable', 'l2', 'r2');
  timers.advance(2999);
  assert.equal(restarting(), true);
  timers.advance(1);
  assert.equal(restarting(), false);
  assert.equal(ended, 1);
  describe('have-local-offer', 'l3', 'r2');
  assert.equal(restarting(), true, 'this side restarts');
});
