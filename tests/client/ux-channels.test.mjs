import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChannels } from '../../www/rtc/data-channel.js';
import { createFileChannels } from '../../www/rtc/file-channel.js';
import { createMesh } from '../../www/rtc/mesh.js';
import { FakeMediaStream, FakeMeshConnection, fakeTimers } from './fakes.mjs';

function recordingView() {
  const calls = [];
  const view = new Proxy({}, { get: (_, name) => (...args) => calls.push([name, ...args]) });
  return { view, named: (name) => calls.filter((call) => call[0] === name).map((call) => call.slice(1)) };
}

test('state notes carry the own name, and a peer\'s name is cleaned before the page sees it', () => {
  const { view, named } = recordingView();
  let name = 'Ada';
  const channels = createChannels({ view, localFlags: () => ({ mic: true, camera: false, sharing: false }), localName: () => name });
  const pc = new FakeMeshConnection('pc1');
  const channel = channels.attach('a', pc);
  channel.open();
  assert.deepEqual(JSON.parse(channel.sent[0]), { kind: 'state', name: 'Ada', mic: true, camera: false, sharing: false });
  name = 'Ada L.';
  channels.announce({ mic: false, camera: false, sharing: false });
  assert.equal(JSON.parse(channel.sent[1]).name, 'Ada L.');
  channel.receive(JSON.stringify({ kind: 'state', name: 'Eve\u202e\u0000 ', mic: true, camera: 'yes', sharing: false }));
  assert.deepEqual(named('peerName'), [['a', 'Eve']]);
  assert.deepEqual(named('peerMedia'), [['a', { mic: true, camera: false, sharing: false }]]);
  channel.receive(JSON.stringify({ kind: 'state', name: 7 }));
  channel.receive(JSON.stringify({ kind: 'chat', text: 'hi' }));
  assert.equal(named('peerName').length, 1, 'a malformed note changes nothing');
  assert.deepEqual(named('chat').map(([message]) => message.text), ['hi']);
});

test('the file channel is negotiated beside the chat channel and sends only where it is open', async () => {
  const { view, named } = recordingView();
  const files = createFileChannels({ view });
  const pcs = [new FakeMeshConnection('pc1'), new FakeMeshConnection('pc2')];
  files.attach('a', pcs[0]);
  files.attach('b', pcs[1]);
  const [toA] = pcs[0].channels;
  const [toB] = pcs[1].channels;
  assert.deepEqual(toA.init, { negotiated: true, id: 1 });
  assert.equal(toA.binaryType, 'arraybuffer');
  toA.open();
  const file = new File([new Uint8Array(100)], 'x.txt');
  assert.equal(files.send(file, ''), 1, 'only the open channel takes it');
  assert.equal(files.send(file, 'b'), 0);
  assert.equal(JSON.parse(toA.sent[0]).kind, 'file-offer');
  assert.equal(toB.sent.length, 0);
  // An offer from b arrives, then b's channel is lost: the page hears both.
  toB.readyState = 'open';
  toB.receive(JSON.stringify({ kind: 'file-offer', id: 1, name: 'y.bin', size: 10 }));
  toB.close();
  const fromB = named('fileTransfer').filter(([peer]) => peer === 'b').map(([, transfer]) => transfer.state);
  assert.deepEqual(fromB, ['receiving', 'lost']);
  files.detach('a');
  assert.equal(toA.readyState, 'closed');
});

test('the mesh lists its connections with their video senders for the monitor', () => {
  const { view } = recordingView();
  const video = { kind: 'video', stop() {} };
  const mesh = createMesh({
    view,
    post: () => {},
    newConnection: () => new FakeMeshConnection('pc'),
    newStream: () => new FakeMediaStream(),
    localTracks: () => ({ audio: null, video, stream: new FakeMediaStream() }),
    channels: createChannels({ view, localFlags: () => ({ mic: true, camera: true, sharing: false }) }),
    negotiation: { timers: fakeTimers(), onError: () => {} },
  });
  mesh.joined('m', ['a', 'b']);
  const connections = mesh.connections();
  assert.deepEqual(connections.map((connection) => connection.id), ['a', 'b']);
  assert.equal(connections[0].videoSender?.track, video);
  mesh.remove('a');
  assert.deepEqual(mesh.connections().map((connection) => connection.id), ['b']);
});
