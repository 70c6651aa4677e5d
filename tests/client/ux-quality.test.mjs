import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareStats, describeLine, gradeLine, readStats } from '../../www/ux/quality.js';

/** A Chromium-shaped stats report at `at` ms with cumulative counters. */
function chromiumReport(at, { rtt = 0.05, received = 1000, lost = 0, bytesIn = 100_000, bytesOut = 120_000, videoOut = 100_000, relay = false, fractionLost = 0 } = {}) {
  return [
    { id: 'T01', type: 'transport', timestamp: at, selectedCandidatePairId: 'CP1' },
    { id: 'CP0', type: 'candidate-pair', timestamp: at, localCandidateId: 'L0', remoteCandidateId: 'R0', nominated: true, state: 'succeeded', currentRoundTripTime: 0.9 },
    { id: 'CP1', type: 'candidate-pair', timestamp: at, localCandidateId: 'L1', remoteCandidateId: 'R1', nominated: true, state: 'succeeded', currentRoundTripTime: rtt },
    { id: 'L1', type: 'local-candidate', timestamp: at, candidateType: relay ? 'relay' : 'host', protocol: 'udp', relayProtocol: relay ? 'tcp' : undefined },
    { id: 'R1', type: 'remote-candidate', timestamp: at, candidateType: 'host', protocol: 'udp' },
    { id: 'IA', type: 'inbound-rtp', kind: 'audio', timestamp: at, packetsReceived: received / 2, packetsLost: lost / 2, bytesReceived: bytesIn / 4 },
    { id: 'IV', type: 'inbound-rtp', kind: 'video', timestamp: at, packetsReceived: received / 2, packetsLost: lost / 2, bytesReceived: bytesIn * 3 / 4, frameWidth: 640, frameHeight: 360, framesPerSecond: 29.7 },
    { id: 'OA', type: 'outbound-rtp', kind: 'audio', timestamp: at, bytesSent: bytesOut - videoOut },
    { id: 'OV', type: 'outbound-rtp', kind: 'video', timestamp: at, bytesSent: videoOut },
    { id: 'RV', type: 'remote-inbound-rtp', kind: 'video', timestamp: at, fractionLost, roundTripTime: 0.5 },
  ];
}

test('stats: the selected pair gives the round trip and the route, not another pair', () => {
  const snapshot = readStats(chromiumReport(1000, { rtt: 0.042 }));
  assert.equal(snapshot.rttMs, 42);
  assert.equal(snapshot.relayed, false);
  assert.equal(snapshot.route, 'host/udp');
  const relayed = readStats(chromiumReport(1000, { relay: true }));
  assert.equal(relayed.relayed, true);
  assert.equal(relayed.route, 'relay/tcp');
});

test('stats: Firefox marks the selected pair itself and has no transport stats', () => {
  const report = [
    { id: 'a', type: 'candidate-pair', timestamp: 5, localCandidateId: 'l', remoteCandidateId: 'r', selected: true, nominated: true, state: 'succeeded', currentRoundTripTime: 0.012 },
    { id: 'l', type: 'local-candidate', timestamp: 5, candidateType: 'srflx', protocol: 'udp' },
    { id: 'r', type: 'remote-candidate', timestamp: 5, candidateType: 'relay', protocol: 'udp' },
  ];
  const snapshot = readStats(report);
  assert.equal(snapshot.rttMs, 12);
  assert.equal(snapshot.relayed, true, 'the far end being relayed counts too');
});

test('stats: nothing selected yet means nothing known', () => {
  const snapshot = readStats([{ id: 'x', type: 'codec', timestamp: 1 }]);
  assert.equal(snapshot.rttMs, null);
  assert.equal(snapshot.relayed, null);
  assert.equal(gradeLine(compareStats(null, snapshot)), 'unknown');
  assert.deepEqual(describeLine(compareStats(null, snapshot)).map((row) => row.value), ['–', '–', '–', '–', '–', '–']);
});

test('stats: bitrates and loss come from the counters between two samples', () => {
  const before = readStats(chromiumReport(10_000, { received: 1000, lost: 0, bytesIn: 100_000, bytesOut: 200_000, videoOut: 150_000 }));
  const after = readStats(chromiumReport(12_000, { received: 1900, lost: 100, bytesIn: 350_000, bytesOut: 700_000, videoOut: 550_000, fractionLost: 0.03 }));
  const line = compareStats(before, after);
  assert.equal(line.bitrateIn, 1_000_000);
  assert.equal(line.bitrateOut, 2_000_000);
  assert.equal(line.videoBitrateOut, 1_600_000);
  assert.equal(line.lossIn, 0.1);
  assert.equal(line.lossOut, 0.03);
  assert.equal(line.grade, 'poor');
  assert.deepEqual(line.videoIn, { width: 640, height: 360, fps: 29.7 });
  const words = Object.fromEntries(describeLine(line).map((row) => [row.label, row.value]));
  assert.deepEqual(words, {
    'Round trip': '50 ms', 'Loss received': '10 %', 'Loss sent': '3.0 %', Receiving: '1.0 Mbit/s',
    Sending: '2.0 Mbit/s', Route: 'Direct (host/udp)', Video: '640×360, 30 fps',
  });
});

test('stats: a counter that went back (a replaced connection) gives no figure rather than a negative one', () => {
  const before = readStats(chromiumReport(1000, { bytesIn: 900_000, received: 5000 }));
  const after = readStats(chromiumReport(2000, { bytesIn: 1000, received: 10 }));
  const line = compareStats(before, after);
  assert.equal(line.bitrateIn, null);
  assert.equal(line.lossIn, null);
});

test('grades: delay and loss in either direction decide; a relay alone does not', () => {
  const grade = (rttMs, lossIn, lossOut = null) => gradeLine({ rttMs, lossIn, lossOut });
  assert.equal(grade(40, 0), 'good');
  assert.equal(grade(250, 0), 'fair');
  assert.equal(grade(40, 0.03), 'fair');
  assert.equal(grade(40, 0, 0.05), 'fair');
  assert.equal(grade(450, 0), 'poor');
  assert.equal(grade(40, 0.01, 0.1), 'poor');
  assert.equal(grade(null, 0), 'good');
  const relayed = compareStats(null, readStats(chromiumReport(1000, { relay: true })));
  assert.equal(relayed.grade, 'good');
  assert.equal(describeLine(relayed).find((row) => row.label === 'Route').value, 'Relayed (TURN, relay/tcp)');
});
