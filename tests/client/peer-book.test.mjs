// The mesh's peer book (www/rtc/peer-book.js), through the mesh: a connection that is replaced
// tells its peer over the old channel as well as through the server, so a quiet peer starts
// over at once; the two copies of the reset do not drop the fresh connection; both sides
// replacing at once still end with one connection; a failed DTLS transport is replaced at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flushMicrotasks, meshSetup } from './fakes.mjs';

const settle = async () => {
  for (let round = 0; round < 5; round += 1) await flushMicrotasks();
};

/** A mesh that offered to 'a' and is connected to it over an open channel. */
async function connectedOfferer(self = 'm') {
  const setup = meshSetup();
  setup.mesh.joined(self, ['a']);
  await settle();
  setup.mesh.handle({ from: 'a', type: 'description', data: { type: 'answer', sdp: 'a answers' } });
  await settle();
  const [pc] = setup.connections;
  pc.setConnectionState('connected');
  pc.channels[0].open();
  return { ...setup, pc, channel: pc.channels[0] };
}

/** A mesh that answered 'n' (a newcomer) and is connected to it over an open channel. */
async function connectedAnswerer(self = 'm') {
  const setup = meshSetup();
  setup.mesh.joined(self, []);
  setup.mesh.handle({ from: 'n', type: 'join' });
  setup.mesh.handle({ from: 'n', type: 'description', data: { type: 'offer', sdp: 'n offer 1' } });
  await settle();
  const [pc] = setup.connections;
  pc.setConnectionState('connected');
  pc.channels[0].open();
  return { ...setup, pc, channel: pc.channels[0] };
}

const notes = (channel) => channel.sent.map((text) => JSON.parse(text)).filter((note) => note.kind === 'mesh');

test('regression: a replaced connection tells its peer over the old channel, then through the server', async () => {
  const { mesh, posts, connections, pc, channel, timers } = await connectedOfferer();
  pc.refuseAnswers = true;
  pc.restartIce();
  await settle();
  mesh.fromChannel('a', JSON.stringify({ kind: 'signal', r: 'remote', s: 1, type: 'description', data: { type: 'answer', sdp: 'a answers again' } }));
  await settle();
  assert.deepEqual(notes(channel), [{ kind: 'mesh', note: 'reset', peer: 'm' }], 'the reset went over the old channel');
  assert.deepEqual(posts.filter((p) => p.type === 'reset').map((p) => p.to), ['a'], 'and through the server');
  assert.equal(connections.length, 2, 'a fresh connection offers at once');
  assert.equal(pc.closed, false, 'the old one stays open a moment, so the note can leave');
  timers.advance(1000);
  assert.equal(pc.closed, true);
});

test('a reset over the channel starts over at once; the server\'s copy only replaces the connection still waiting', async () => {
  const { mesh, posts, connections, channel } = await connectedAnswerer();
  channel.receive(JSON.stringify({ kind: 'mesh', note: 'reset', peer: 'n' }));
  assert.equal(connections.length, 2);
  assert.equal(connections[0].closed, true, 'the old end is dropped');
  mesh.handle({ from: 'n', type: 'reset' });
  assert.equal(connections.length, 3, 'the copy from the server comes before the new offer');
  assert.equal(connections[1].closed, true);
  mesh.handle({ from: 'n', type: 'description', data: { type: 'offer', sdp: 'n offer 2' } });
  await settle();
  assert.equal(connections[2].signalingState, 'stable');
  assert.deepEqual(posts.filter((p) => p.type === 'description').map((p) => p.data.sdp).at(-1), 'pc3 answers n offer 2');
});

test('only the peer itself can reset its connection over the channel', async () => {
  const { connections, channel } = await connectedAnswerer();
  channel.receive(JSON.stringify({ kind: 'mesh', note: 'reset', peer: 'x' }));
  assert.equal(connections.length, 1);
  assert.equal(connections[0].closed, false);
});

test('both sides replacing at once: the impolite side\'s new offer stands and the polite side answers it', async () => {
  // 'm' > 'a': 'm' is impolite towards 'a'.
  // A connection the browser closed under the mesh is replaced at the next tick.
  const impolite = await connectedOfferer('m');
  impolite.pc.close();
  impolite.timers.advance(1000);
  await settle();
  assert.equal(impolite.connections.length, 2, 'the impolite side replaced its connection');
  // The polite side replaced its own at the same moment and says so.
  impolite.mesh.handle({ from: 'a', type: 'reset' });
  assert.equal(impolite.connections.length, 2, 'its fresh offer stands');
  assert.equal(impolite.connections[1].closed, false);

  const polite = await connectedAnswerer('a');
  polite.pc.close();
  polite.timers.advance(1000);
  await settle();
  assert.equal(polite.connections.length, 2, 'the polite side replaced its connection too');
  polite.mesh.handle({ from: 'n', type: 'reset' });
  assert.equal(polite.connections.length, 3, 'and yields to the other side\'s reset');
  assert.equal(polite.connections[1].closed, true);
  polite.mesh.handle({ from: 'n', type: 'description', data: { type: 'offer', sdp: 'n offer 2' } });
  await settle();
  assert.equal(polite.connections[2].signalingState, 'stable', 'it answers the standing offer');
});

test('regression: a failed DTLS transport is replaced at once, from either side, without an ICE restart', async () => {
  for (const connected of [connectedOfferer, connectedAnswerer]) {
    const { posts, connections, pc } = await connected();
    pc.sctp = { transport: { state: 'failed' } };
    pc.iceConnectionState = 'checking';
    pc.setConnectionState('failed');
    await settle();
    assert.equal(pc.restartIceCalls, 0, `${connected.name}: no restart`);
    assert.equal(connections.length, 2, `${connected.name}: a fresh connection`);
    assert.equal(posts.filter((p) => p.type === 'reset').length, 1, `${connected.name}: the peer is told`);
  }
});
