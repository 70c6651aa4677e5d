// The call's measurements, a few times a second and never per frame: audio levels of every
// participant (the own microphone included) for the speaker highlight and the "you are muted"
// hint, and every two seconds each connection's stats for its quality indicator and for the
// mesh's bitrate plan, which it applies with RTCRtpSender.setParameters. It reads connections
// through the small interface below and reports through callbacks; it never touches the DOM.
'use strict';

import { applyPlan, createLossAdapter, planBitrates } from './bitrate.js';
import { compareStats, readStats } from './quality.js';
import { createMutedTalkHint, createSpeakerTracker, levelBetween } from './speaker.js';

/** Audio levels are sampled this often: enough for a highlight to follow a conversation. */
export const LEVEL_INTERVAL_MS = 250;

/** Connection stats are read this often: getStats() of a whole connection is not free. */
export const QUALITY_INTERVAL_MS = 2000;

/** The key the own tile has among the speakers. */
export const SELF = 'self';

/**
 * @typedef {object} MonitoredPeer
 * @property {string} id
 * @property {{getStats: () => Promise<Iterable<any> | {values: () => Iterable<any>}>,
 *   getReceivers: () => {track: {kind: string} | null, getStats: () => Promise<any>}[]}} pc
 * @property {{getParameters: () => any, setParameters: (parameters: any) => Promise<void>} | null} videoSender
 */

/**
 * @typedef {object} MonitorOptions
 * @property {() => MonitoredPeer[]} peers The connections now.
 * @property {() => number} localLevel The own microphone's level (measured even while muted).
 * @property {() => boolean} micOn Whether the own microphone is on and unmuted.
 * @property {() => 'camera' | 'screen'} [content] What the video senders carry.
 * @property {number} [budget] The total video uplink budget, bits per second, until setBudget.
 * @property {(state: import('./speaker.js').SpeakerState) => void} onSpeakers
 * @property {(shown: boolean) => void} onMutedHint
 * @property {(peerId: string, line: import('./quality.js').LineQuality) => void} onQuality
 * @property {{setInterval: typeof setInterval, clearInterval: typeof clearInterval}} [timers]
 * @property {() => number} [now]
 */

/**
 * @param {any} report An RTCStatsReport (a Map-like) or an array of stats.
 * @returns {any[]}
 */
function statsOf(report) {
  if (!report) return [];
  return [...(typeof report.values === 'function' ? report.values() : report)];
}

/**
 * @param {MonitorOptions} options
 */
export function createCallMonitor(options) {
  const timers = options.timers ?? globalThis;
  const now = options.now ?? (() => Date.now());
  const speakers = createSpeakerTracker();
  const mutedHint = createMutedTalkHint();
  /** @type {Map<string, {energy: number, duration: number}>} */
  const energies = new Map();
  /** @type {Map<string, import('./quality.js').StatsSnapshot>} */
  const snapshots = new Map();
  /** @type {Map<string, ReturnType<typeof createLossAdapter>>} */
  const losses = new Map();
  /** @type {Map<string, import('./bitrate.js').PeerPlan>} */
  let plans = new Map();
  /** @type {ReturnType<typeof setInterval>[]} */
  let intervals = [];
  let levelsBusy = false;
  let qualityBusy = false;
  let hintShown = false;
  let budget = options.budget;

  /**
   * The level a peer's audio had since the last sample, from its inbound audio stats.
   * @param {MonitoredPeer} peer
   * @returns {Promise<number>}
   */
  async function remoteLevel(peer) {
    const receiver = peer.pc.getReceivers().find((candidate) => candidate.track?.kind === 'audio');
    if (!receiver) return 0;
    const inbound = statsOf(await receiver.getStats()).find((entry) => entry.type === 'inbound-rtp');
    if (!inbound) return 0;
    if (Number.isFinite(inbound.totalAudioEnergy) && Number.isFinite(inbound.totalSamplesDuration)) {
      const sample = { energy: inbound.totalAudioEnergy, duration: inbound.totalSamplesDuration };
      const level = levelBetween(energies.get(peer.id) ?? null, sample);
      energies.set(peer.id, sample);
      return level;
    }
    return Number(inbound.audioLevel) || 0;
  }

  async function sampleLevels() {
    if (levelsBusy) return;
    levelsBusy = true;
    try {
      const peers = options.peers();
      const remote = await Promise.all(peers.map((peer) => remoteLevel(peer).catch(() => 0)));
      const local = options.localLevel();
      const micOn = options.micOn();
      const time = now();
      /** @type {[string, number][]} */
      const levels = [[SELF, micOn ? local : 0], ...peers.map((peer, index) => /** @type {[string, number]} */ ([peer.id, remote[index]]))];
      const known = new Set(peers.map((peer) => peer.id));
      for (const id of energies.keys()) {
        if (!known.has(id)) {
          energies.delete(id);
          speakers.forget(id);
        }
      }
      options.onSpeakers(speakers.update(levels, time));
      const shown = mutedHint.update(local, !micOn, time);
      if (shown !== hintShown) {
        hintShown = shown;
        options.onMutedHint(shown);
      }
    } finally {
      levelsBusy = false;
    }
  }

  async function sampleQuality() {
    if (qualityBusy) return;
    qualityBusy = true;
    try {
      const peers = options.peers();
      const reports = await Promise.all(peers.map((peer) => peer.pc.getStats().then(statsOf, () => null)));
      const known = new Set(peers.map((peer) => peer.id));
      for (const table of [snapshots, losses]) for (const id of table.keys()) if (!known.has(id)) table.delete(id);
      peers.forEach((peer, index) => {
        const report = reports[index];
        if (!report) return;
        const snapshot = readStats(report);
        const line = compareStats(snapshots.get(peer.id) ?? null, snapshot);
        snapshots.set(peer.id, snapshot);
        const adapter = losses.get(peer.id) ?? createLossAdapter();
        losses.set(peer.id, adapter);
        // What the peer reports losing of what this side sends: the uplink's own trouble.
        if (line.lossOut !== null) adapter.sample(line.lossOut);
        options.onQuality(peer.id, line);
      });
      await applyPlans(peers);
    } finally {
      qualityBusy = false;
    }
  }

  /** @param {MonitoredPeer[]} peers */
  async function applyPlans(peers) {
    const lossFactors = new Map([...losses].map(([id, adapter]) => [id, adapter.factor()]));
    plans = planBitrates(peers.map((peer) => peer.id), { budget, lossFactors, content: options.content?.() });
    await Promise.all(peers.map(async (peer) => {
      const plan = plans.get(peer.id);
      if (!plan || !peer.videoSender) return;
      const next = applyPlan(peer.videoSender.getParameters(), plan);
      if (!next) return;
      // Refused while a renegotiation is under way; the next round tries again.
      await peer.videoSender.setParameters(next).catch((error) => console.warn('setParameters:', error));
    }));
  }

  return {
    start() {
      if (intervals.length > 0) return;
      intervals = [
        timers.setInterval(() => void sampleLevels(), LEVEL_INTERVAL_MS),
        timers.setInterval(() => void sampleQuality(), QUALITY_INTERVAL_MS),
      ];
    },
    stop() {
      for (const interval of intervals) timers.clearInterval(interval);
      intervals = [];
    },
    sampleLevels,
    sampleQuality,
    /** The bitrate plan last applied, by peer id. */
    plans: () => new Map(plans),
    /** Applies the plan now, e.g. right after a peer joined or left. */
    replan: () => applyPlans(options.peers()),
    /**
     * Changes the total video uplink budget and applies the new plan at once.
     * @param {number} bits
     */
    setBudget(bits) {
      budget = bits;
      return applyPlans(options.peers());
    },
  };
}
