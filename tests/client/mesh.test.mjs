import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flushMicrotasks, meshSetup as setup } from './fakes.mjs';

const track = (kind, name) => ({ kind, name, stop() {} });

test('the newcomer offers to every peer already in the room, and to nobody else', async () => {
  const { mesh, named, posts, connections } = setup();
  mesh.joined('m', ['a', 'b', 'm']);
  await flushMicrotasks();
  assert.deepEqual(named('selfId'), [['m']]);
  assert.deepEqual(named('peerAdded'), [['a'], ['b']], 'one tile per other peer, none for itself');
  assert.equal(connections.length, 2);
  const offers = posts.filter((p) => p.type === 'description').map((p) => [p.to, p.data.type]);
  assert.deepEqual(offers, [['a', 'offer'], ['b', 'offer']]);
  assert.deepEqual(connections[0].senders.map((s) => s.kind), ['audio', 'video'],
    'the offer has audio and video sections before any camera is open');
});

test('a join event prepares a connection that waits for the newcomer\'s offer', async () => {
  const { mesh, named, posts, connections } = setup();
  mesh.joined('m', []);
  mesh.handle({ from: 'n', type: 'join' });
  await flushMicrotasks();
  assert.deepEqual(named('peerAdded'), [['n']]);
  assert.equal(connections.length, 1);
  assert.deepEqual(posts, [], 'the answering side sends no offer of its own');
  mesh.handle({ from: 'n', type: 'description', data: { type: 'offer', sdp: 'n offer 1' } });
  await flushMicrotasks();
  await flushMicrotasks();
  assert.deepEqual(posts.map((p) => [p.to, p.type, p.data.type]), [['n', 'description', 'answer']]);
  assert.equal(connections[0].signalingState, 'stable');
});

test('two meshes back to back connect: one offer, one answer, candidates both ways', async () => {
  const left = setup();
  const right = setup();
  right.mesh.joined('b', []);
  left.mesh.joined('c', ['b']);
  right.mesh.handle({ from: 'c', type: 'join' });
  const deliver = async () => {
    for (let round = 0; round < 10; round += 1) {
      await flushMicrotasks();
      for (const post of left.posts.splice(0)) right.mesh.handle({ from: 'c', type: post.type, data: post.data });
      for (const post of right.posts.splice(0)) left.mesh.handle({ from: 'b', type: post.type, data: post.data });
    }
  };
  await deliver();
  const [offerer] = left.connections;
  const [answerer] = right.connections;
  assert.equal(offerer.signalingState, 'stable');
  assert.equal(answerer.signalingState, 'stable');
  assert.equal(offerer.remoteDescription.sdp, 'pc1 answers pc1 offer 1');
  assert.equal(offerer.rolledBack + answerer.rolledBack, 0, 'no collision');
  offerer.gather({ candidate: 'candidate:1' });
  answerer.gather({ candidate: 'candidate:2' });
  left.timers.advance(50);
  right.timers.advance(50);
  await deliver();
  assert.deepEqual(answerer.addedCandidates, [{ candidate: 'candidate:1' }]);
  assert.deepEqual(offerer.addedCandidates, [{ candidate: 'candidate:2' }]);
});

test('a leave closes the connection and removes the tile', async () => {
  const { mesh, named, connections } = setup();
  mesh.joined('m', ['a']);
  connections[0].channels[0].open();
  mesh.handle({ from: 'a', type: 'leave' });
  assert.deepEqual(named('peerRemoved'), [['a']]);
  assert.equal(connections[0].closed, true);
  assert.equal(connections[0].channels[0].readyState, 'closed');
  assert.deepEqual(named('chatChannels').at(-1), [0], 'chat is no longer available');
  assert.equal(mesh.snapshot().size, 0);
});

test('a reset replaces the connection but keeps the tile, and waits for the new offer', async () => {
  const { mesh, named, posts, connections } = setup();
  mesh.joined('m', []);
  mesh.handle({ from: 'a', type: 'join' });
  mesh.handle({ from: 'a', type: 'reset' });
  await flushMicrotasks();
  assert.equal(connections.length, 2);
  assert.equal(connections[0].closed, true);
  assert.equal(connections[1].closed, false);
  assert.deepEqual(named('peerRemoved'), []);
  assert.deepEqual(posts, []);
});

test('candidates from an unknown peer start nothing; its description does', async () => {
  const { mesh, named, connections } = setup();
  mesh.joined('m', []);
  mesh.handle({ from: 'x', type: 'candidates', data: [{ candidate: 'c' }] });
  assert.equal(connections.length, 0);
  mesh.handle({ from: 'x', type: 'description', data: { type: 'offer', sdp: 'x offer 1' } });
  await flushMicrotasks();
  assert.equal(connections.length, 1);
  assert.deepEqual(named('peerAdded'), [['x']]);
});

test('messages before a join, or from this client itself, make no connection', () => {
  const { mesh, connections } = setup();
  mesh.handle({ from: 'a', type: 'join' });
  mesh.joined('m', []);
  mesh.handle({ from: 'm', type: 'join' });
  assert.equal(connections.length, 0);
});

test('the answering side adds the tracks it has before the offer arrives', () => {
  const mic = track('audio', 'mic');
  const { mesh, connections } = setup({ audio: mic });
  mesh.joined('m', []);
  mesh.handle({ from: 'a', type: 'join' });
  assert.deepEqual(connections[0].senders.map((s) => [s.kind, s.sender.track]), [['audio', mic]]);
});

test('a new track replaces the sender\'s track, or adds a sender where there was none', async () => {
  const { mesh, connections } = setup();
  mesh.joined('m', ['a']);
  mesh.handle({ from: 'b', type: 'join' });
  const camera = track('video', 'camera');
  await mesh.sendTrack('video', camera);
  const [offering, answering] = connections;
  assert.equal(offering.senders.length, 2, 'no new sender on the offering side');
  assert.equal(offering.senders[1].sender.track, camera);
  assert.deepEqual(answering.senders.map((s) => [s.kind, s.sender.track]), [['video', camera]]);
  await mesh.sendTrack('video', null);
  assert.equal(offering.senders[1].sender.track, null, 'stopping sends nothing');
});

test('a connection that an ICE restart did not bring up is reset by the impolite side', async () => {
  // 'm' > 'a', so this side is the impolite one.
  const { mesh, posts, connections, timers } = setup();
  mesh.joined('m', ['a']);
  await flushMicrotasks();
  timers.advance(15000);
  await flushMicrotasks();
  assert.equal(connections[0].restartIceCalls, 1, 'first an ICE restart');
  timers.advance(15000);
  await flushMicrotasks();
  assert.equal(connections[0].closed, true, 'then a fresh connection');
  assert.equal(connections.length, 2);
  const resetAt = posts.findIndex((p) => p.type === 'reset');
  assert.ok(resetAt > 0, 'the peer is told to drop its end');
  assert.deepEqual(posts.slice(resetAt).map((p) => [p.to, p.type, p.data?.type]).slice(0, 2),
    [['a', 'reset', undefined], ['a', 'description', 'offer']]);
});

test('regression: an answer this side cannot apply replaces the connection at once', async () => {
  const { mesh, posts, connections } = setup();
  mesh.joined('m', ['a']);
  await flushMicrotasks();
  connections[0].refuseAnswers = true;
  await mesh.handle({ from: 'a', type: 'description', data: { type: 'answer', sdp: 'a answers' } });
  for (let round = 0; round < 5; round += 1) await flushMicrotasks();
  assert.equal(connections[0].closed, true, 'the refused connection is dropped');
  assert.equal(connections.length, 2, 'and a fresh one started, without waiting for a timer');
  assert.deepEqual(posts.filter((p) => p.type === 'reset').map((p) => p.to), ['a']);
});

test('hanging up drops every connection and forgets the id', () => {
  const { mesh, named, connections } = setup();
  mesh.joined('m', ['a', 'b']);
  mesh.leave();
  assert.deepEqual(named('peerRemoved'), [['a'], ['b']]);
  assert.ok(connections.every((pc) => pc.closed));
  assert.equal(mesh.selfId(), null);
});

test('the chat channel tells its peer the media state when it opens, and carries chat', () => {
  const { mesh, named, connections } = setup();
  mesh.joined('m', ['a']);
  const [channel] = connections[0].channels;
  assert.deepEqual(channel.init, { negotiated: true, id: 0 });
  channel.open();
  assert.deepEqual(channel.sent.map((text) => JSON.parse(text).kind), ['state']);
  channel.receive(JSON.stringify({ kind: 'chat', text: ' hi ' }));
  channel.receive('<not json>');
  assert.deepEqual(named('chat').map(([m]) => [m.from, m.text]), [['a', 'hi']]);
  assert.equal(mesh.snapshot().get('a').channelState, 'open');
});

test('fresh ICE servers reach every connection', () => {
  const { mesh, connections } = setup();
  mesh.joined('m', ['a', 'b']);
  const configuration = { iceServers: [{ urls: 'turn:fresh' }] };
  mesh.setConfiguration(configuration);
  assert.ok(connections.every((pc) => pc.configuration === configuration));
});

test('a connection that comes up reports its safety code once, while it is current', async () => {
  const asked = [];
  const { mesh, named, connections } = setup({ safetyCode: async (pc) => { asked.push(pc); return `code of ${pc.name}`; } });
  mesh.joined('m', ['a', 'b']);
  connections[0].setConnectionState('connecting');
  connections[0].setConnectionState('connected');
  connections[0].setConnectionState('connected');
  mesh.handle({ from: 'b', type: 'leave' });
  connections[1].setConnectionState('connected');
  await flushMicrotasks();
  assert.deepEqual(asked, [connections[0]], 'asked once, and not for a connection already dropped');
  assert.deepEqual(named('peerSafetyCode'), [['a', 'code of pc1']]);
});
