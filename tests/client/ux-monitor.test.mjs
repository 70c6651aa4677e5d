import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCallMonitor, SELF } from '../../www/ux/monitor.js';

/** A connection whose stats the test drives: audio energy in, loss reported by the far end. */
function fakePeer(id) {
  const peer = {
    id,
    energy: 0,
    duration: 0,
    fractionLost: 0,
    bytesSent: 0,
    at: 0,
    parameters: { transactionId: 'x', encodings: [{ active: true }] },
    applied: [],
    speak(level, seconds) {
      this.energy += level * level * seconds;
      this.duration += seconds;
    },
  };
  peer.pc = {
    getReceivers: () => [
      { track: { kind: 'video' }, getStats: async () => new Map() },
      { track: { kind: 'audio' }, getStats: async () => new Map([['IA', { id: 'IA', type: 'inbound-rtp', kind: 'audio', totalAudioEnergy: peer.energy, totalSamplesDuration: peer.duration }]]) },
    ],
    getStats: async () => {
      peer.at += 2000;
      peer.bytesSent += 250_000;
      return new Map(Object.entries({
        T: { id: 'T', type: 'transport', timestamp: peer.at, selectedCandidatePairId: 'P' },
        P: { id: 'P', type: 'candidate-pair', timestamp: peer.at, localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.03 },
        L: { id: 'L', type: 'local-candidate', timestamp: peer.at, candidateType: 'host', protocol: 'udp' },
        R: { id: 'R', type: 'remote-candidate', timestamp: peer.at, candidateType: 'host', protocol: 'udp' },
        O: { id: 'O', type: 'outbound-rtp', kind: 'video', timestamp: peer.at, bytesSent: peer.bytesSent },
        RI: { id: 'RI', type: 'remote-inbound-rtp', kind: 'video', timestamp: peer.at, fractionLost: peer.fractionLost },
      }));
    },
  };
  peer.videoSender = {
    getParameters: () => structuredClone(peer.parameters),
    setParameters: async (next) => {
      peer.parameters = next;
      peer.applied.push(next.encodings[0]);
    },
  };
  return peer;
}

function monitorOf(peers, { level = () => 0, micOn = () => true } = {}) {
  const seen = { speakers: [], hints: [], quality: [] };
  let clock = 0;
  const monitor = createCallMonitor({
    peers: () => peers,
    localLevel: level,
    micOn,
    onSpeakers: (state) => seen.speakers.push(state),
    onMutedHint: (shown) => seen.hints.push(shown),
    onQuality: (id, line) => seen.quality.push({ id, line }),
    now: () => (clock += 250),
  });
  return { monitor, seen };
}

test('monitor: each sender is capped as the plan says for the size of the call, and again when it shrinks', async () => {
  const peers = ['a', 'b', 'c'].map(fakePeer);
  const { monitor, seen } = monitorOf(peers);
  await monitor.sampleQuality();
  for (const peer of peers) {
    assert.deepEqual(peer.parameters.encodings, [{ active: true, maxBitrate: 833_333, scaleResolutionDownBy: 1.5 }], peer.id);
  }
  assert.equal(seen.quality.length, 3);
  assert.equal(seen.quality[0].line.grade, 'good');
  await monitor.sampleQuality();
  assert.equal(peers[0].applied.length, 1, 'an unchanged plan is not applied again');
  assert.equal(seen.quality[3].line.videoBitrateOut, 1_000_000);
  peers.pop();
  await monitor.replan();
  assert.equal(peers[0].parameters.encodings[0].maxBitrate, 1_250_000);
  assert.equal(peers[0].parameters.encodings[0].scaleResolutionDownBy, 1);
  assert.deepEqual([...monitor.plans().keys()], ['a', 'b']);
});

test('monitor: a new budget is applied at once', async () => {
  const peers = ['a', 'b'].map(fakePeer);
  const { monitor } = monitorOf(peers);
  await monitor.sampleQuality();
  assert.equal(peers[0].parameters.encodings[0].maxBitrate, 1_250_000);
  await monitor.setBudget(1_000_000);
  assert.deepEqual(peers.map((peer) => peer.parameters.encodings[0].maxBitrate), [500_000, 500_000]);
  assert.equal(peers[0].parameters.encodings[0].scaleResolutionDownBy, 1.5);
});

test('monitor: sustained loss reported by one peer lowers only its cap', async () => {
  const peers = ['a', 'b'].map(fakePeer);
  const { monitor } = monitorOf(peers);
  peers[1].fractionLost = 0.12;
  for (let i = 0; i < 3; i += 1) await monitor.sampleQuality();
  assert.equal(peers[0].parameters.encodings[0].maxBitrate, 1_250_000);
  assert.equal(peers[1].parameters.encodings[0].maxBitrate, 875_000);
});

test('monitor: the speaker highlight follows the peer whose audio carries energy', async () => {
  const peers = ['a', 'b'].map(fakePeer);
  const { monitor, seen } = monitorOf(peers);
  await monitor.sampleLevels();
  assert.equal(seen.speakers.at(-1).active, null);
  for (let i = 0; i < 4; i += 1) {
    peers[0].speak(0.001, 0.25);
    peers[1].speak(0.2, 0.25);
    await monitor.sampleLevels();
  }
  assert.equal(seen.speakers.at(-1).active, 'b');
  assert.deepEqual([...seen.speakers.at(-1).speaking], ['b']);
});

test('monitor: talking while muted raises the hint once, and the own tile is not highlighted', async () => {
  const peers = [fakePeer('a')];
  let micOn = false;
  const { monitor, seen } = monitorOf(peers, { level: () => 0.2, micOn: () => micOn });
  for (let i = 0; i < 5; i += 1) await monitor.sampleLevels();
  assert.deepEqual(seen.hints, [true]);
  assert.equal(seen.speakers.at(-1).active, null, 'a muted person is not shown speaking');
  micOn = true;
  await monitor.sampleLevels();
  assert.deepEqual(seen.hints, [true, false]);
  assert.equal(seen.speakers.at(-1).active, SELF);
});

test('monitor: start and stop use the timers, and a stats error does not stop the others', async () => {
  const started = [];
  const cleared = [];
  const peers = ['a', 'b'].map(fakePeer);
  peers[0].pc.getStats = async () => { throw new Error('closed'); };
  const quality = [];
  const monitor = createCallMonitor({
    peers: () => peers, localLevel: () => 0, micOn: () => true,
    onSpeakers: () => {}, onMutedHint: () => {}, onQuality: (id) => quality.push(id),
    timers: { setInterval: (fn, ms) => started.push(ms) && started.length, clearInterval: (handle) => cleared.push(handle) },
  });
  monitor.start();
  monitor.start();
  assert.deepEqual(started, [250, 2000]);
  monitor.stop();
  assert.deepEqual(cleared, [1, 2]);
  await monitor.sampleQuality();
  assert.deepEqual(quality, ['b']);
});
