// How a connection is doing, from two getStats() samples: round-trip time, packet loss in each
// direction, bitrate in each direction, and whether the media goes through a TURN relay. It
// owns reading those figures out of a stats report (Chromium and Firefox name the selected
// candidate pair differently), the grade shown on each tile and the words of the details
// popover. Pure: the caller calls getStats() and passes the report in.
'use strict';

/**
 * What one stats report says, cumulative counters included.
 * @typedef {object} StatsSnapshot
 * @property {number} at Milliseconds (the report's timestamp).
 * @property {number | null} rttMs The selected candidate pair's current round trip.
 * @property {boolean | null} relayed Whether either end of that pair is a TURN relay.
 * @property {string} route e.g. 'host/udp', 'relay/tcp'; '' while unknown.
 * @property {number} bytesIn
 * @property {number} bytesOut
 * @property {number} videoBytesOut
 * @property {number} packetsIn
 * @property {number} packetsLostIn
 * @property {number | null} lossOut The peer's last reported fraction lost (0 to 1).
 * @property {{width: number, height: number, fps: number} | null} videoIn
 */

/**
 * What happened between two snapshots.
 * @typedef {object} LineQuality
 * @property {number | null} rttMs
 * @property {number | null} lossIn 0 to 1
 * @property {number | null} lossOut 0 to 1
 * @property {number | null} bitrateIn bits per second
 * @property {number | null} bitrateOut bits per second
 * @property {number | null} videoBitrateOut bits per second
 * @property {boolean | null} relayed
 * @property {string} route
 * @property {{width: number, height: number, fps: number} | null} videoIn
 * @property {'good' | 'fair' | 'poor' | 'unknown'} grade
 */

/**
 * @param {Iterable<any>} stats The values of an RTCStatsReport.
 * @returns {StatsSnapshot}
 */
export function readStats(stats) {
  /** @type {Map<string, any>} */
  const byId = new Map();
  for (const entry of stats) if (entry && typeof entry.id === 'string') byId.set(entry.id, entry);

  let at = 0;
  let pair = null;
  for (const entry of byId.values()) {
    at = Math.max(at, Number(entry.timestamp) || 0);
    if (entry.type === 'transport' && entry.selectedCandidatePairId) pair = byId.get(entry.selectedCandidatePairId) ?? pair;
  }
  // Firefox marks the pair itself; older Chromium only nominates it.
  pair ??= [...byId.values()].find((entry) => entry.type === 'candidate-pair' && entry.selected === true)
    ?? [...byId.values()].find((entry) => entry.type === 'candidate-pair' && entry.nominated && entry.state === 'succeeded')
    ?? null;

  const local = pair ? byId.get(pair.localCandidateId) : undefined;
  const remote = pair ? byId.get(pair.remoteCandidateId) : undefined;
  const relayed = pair ? local?.candidateType === 'relay' || remote?.candidateType === 'relay' : null;
  const route = local ? `${local.candidateType ?? '?'}/${local.relayProtocol ?? local.protocol ?? '?'}` : '';

  let rttMs = pair && Number.isFinite(pair.currentRoundTripTime) ? pair.currentRoundTripTime * 1000 : null;
  let bytesIn = 0;
  let bytesOut = 0;
  let videoBytesOut = 0;
  let packetsIn = 0;
  let packetsLostIn = 0;
  /** @type {number | null} */
  let lossOut = null;
  let videoIn = null;
  for (const entry of byId.values()) {
    if (entry.type === 'inbound-rtp') {
      bytesIn += Number(entry.bytesReceived) || 0;
      packetsIn += Number(entry.packetsReceived) || 0;
      packetsLostIn += Math.max(0, Number(entry.packetsLost) || 0);
      if (entry.kind === 'video' && entry.frameWidth) {
        videoIn = { width: entry.frameWidth, height: entry.frameHeight ?? 0, fps: entry.framesPerSecond ?? 0 };
      }
    } else if (entry.type === 'outbound-rtp') {
      bytesOut += Number(entry.bytesSent) || 0;
      if (entry.kind === 'video') videoBytesOut += Number(entry.bytesSent) || 0;
    } else if (entry.type === 'remote-inbound-rtp') {
      if (Number.isFinite(entry.fractionLost)) lossOut = Math.max(lossOut ?? 0, entry.fractionLost);
      if (rttMs === null && Number.isFinite(entry.roundTripTime)) rttMs = entry.roundTripTime * 1000;
    }
  }
  return { at, rttMs, relayed, route, bytesIn, bytesOut, videoBytesOut, packetsIn, packetsLostIn, lossOut, videoIn };
}

/**
 * @param {StatsSnapshot | null} before
 * @param {StatsSnapshot} after
 * @returns {LineQuality}
 */
export function compareStats(before, after) {
  const seconds = before ? (after.at - before.at) / 1000 : 0;
  /** @param {number} later @param {number} earlier */
  const rate = (later, earlier) => (seconds > 0 && later >= earlier ? ((later - earlier) * 8) / seconds : null);
  let lossIn = null;
  if (before) {
    const received = after.packetsIn - before.packetsIn;
    const lost = after.packetsLostIn - before.packetsLostIn;
    if (received + lost > 0 && received >= 0 && lost >= 0) lossIn = lost / (received + lost);
  }
  const line = {
    rttMs: after.rttMs,
    lossIn,
    lossOut: after.lossOut,
    bitrateIn: before ? rate(after.bytesIn, before.bytesIn) : null,
    bitrateOut: before ? rate(after.bytesOut, before.bytesOut) : null,
    videoBitrateOut: before ? rate(after.videoBytesOut, before.videoBytesOut) : null,
    relayed: after.relayed,
    route: after.route,
    videoIn: after.videoIn,
    grade: /** @type {LineQuality['grade']} */ ('unknown'),
  };
  line.grade = gradeLine(line);
  return line;
}

/**
 * good: a conversation feels natural; fair: noticeable delay or some loss; poor: speech
 * breaks up or video freezes. A relay alone is not worse; it shows in the details.
 * @param {Pick<LineQuality, 'rttMs' | 'lossIn' | 'lossOut'>} line
 * @returns {'good' | 'fair' | 'poor' | 'unknown'}
 */
export function gradeLine(line) {
  if (line.rttMs === null && line.lossIn === null && line.lossOut === null) return 'unknown';
  const rtt = line.rttMs ?? 0;
  const loss = Math.max(line.lossIn ?? 0, line.lossOut ?? 0);
  if (rtt > 400 || loss > 0.08) return 'poor';
  if (rtt > 200 || loss > 0.02) return 'fair';
  return 'good';
}

/** @type {Record<LineQuality['grade'], string>} */
export const GRADE_WORDS = { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection', unknown: 'Measuring connection' };

/**
 * The lines of the details popover, as label and value.
 * @param {LineQuality} line
 * @returns {{label: string, value: string}[]}
 */
export function describeLine(line) {
  /** @param {number | null} bits */
  const kbps = (bits) => (bits === null ? '–' : bits >= 1_000_000 ? `${(bits / 1_000_000).toFixed(1)} Mbit/s` : `${Math.round(bits / 1000)} kbit/s`);
  /** @param {number | null} fraction */
  const percent = (fraction) => (fraction === null ? '–' : `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)} %`);
  const rows = [
    { label: 'Round trip', value: line.rttMs === null ? '–' : `${Math.round(line.rttMs)} ms` },
    { label: 'Loss received', value: percent(line.lossIn) },
    { label: 'Loss sent', value: percent(line.lossOut) },
    { label: 'Receiving', value: kbps(line.bitrateIn) },
    { label: 'Sending', value: kbps(line.bitrateOut) },
    { label: 'Route', value: line.relayed === null ? '–' : line.relayed ? `Relayed (TURN, ${line.route})` : `Direct (${line.route})` },
  ];
  if (line.videoIn) rows.push({ label: 'Video', value: `${line.videoIn.width}×${line.videoIn.height}, ${Math.round(line.videoIn.fps)} fps` });
  return rows;
}
