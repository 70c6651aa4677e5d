// How much video each connection of the mesh may send. In a mesh every sender encodes its
// camera once per peer, so the uplink carries (peers x bitrate): this module splits one total
// uplink budget between the peers, picks the resolution that suits each share, and lowers a
// peer's share further while its connection keeps losing packets. Pure: it computes
// RTCRtpEncodingParameters values; applying them (RTCRtpSender.setParameters) is the caller's.
'use strict';

/** The total video uplink budget when no setting says otherwise, in bits per second. */
export const DEFAULT_UPLINK_BUDGET = 2_500_000;

/** The budgets a person can choose, in bits per second (a slow, a usual and a fast uplink). */
export const UPLINK_CHOICES = [1_000_000, DEFAULT_UPLINK_BUDGET, 5_000_000];

/** Where the page remembers the chosen budget. */
export const UPLINK_STORAGE_KEY = 'webrtc-cgi.uplink';

/**
 * A remembered or chosen budget, or the default when it is not one of UPLINK_CHOICES.
 * @param {unknown} raw
 * @returns {number}
 */
export function parseBudget(raw) {
  const value = Number(raw);
  return UPLINK_CHOICES.includes(value) ? value : DEFAULT_UPLINK_BUDGET;
}

/** One peer never gets more than this: beyond it a 720p camera image gains nothing visible. */
export const MAX_PEER_BITRATE = 1_500_000;

/** Below this even a small image is a slide show; a peer's share never goes lower. */
export const MIN_PEER_BITRATE = 120_000;

/**
 * The resolution step for a bitrate, as a divisor of the camera's 1280 x 720: each line is the
 * least bitrate at which that size still looks sharp with VP8 at 30 frames a second.
 */
const RESOLUTION_STEPS = [
  { atLeast: 900_000, scale: 1 },
  { atLeast: 450_000, scale: 1.5 },
  { atLeast: 250_000, scale: 2 },
  { atLeast: 150_000, scale: 3 },
  { atLeast: 0, scale: 4 },
];

/**
 * @typedef {object} PeerPlan
 * @property {number} maxBitrate bits per second
 * @property {number} scaleResolutionDownBy 1 = the camera's size
 */

/**
 * The resolution divisor for a bitrate. A shared screen keeps its full size (text must stay
 * readable) and lets the frame rate drop instead.
 * @param {number} bitrate
 * @param {'camera' | 'screen'} [content]
 * @returns {number}
 */
export function scaleForBitrate(bitrate, content = 'camera') {
  if (content === 'screen') return 1;
  return (RESOLUTION_STEPS.find((step) => bitrate >= step.atLeast) ?? RESOLUTION_STEPS[RESOLUTION_STEPS.length - 1]).scale;
}

/**
 * Splits the budget between `peers` connections. `lossFactors` (0 to 1, by peer id) shrink
 * the share of a connection that loses packets; what it gives up is not handed to the others,
 * since a lossy path usually means a congested uplink that everyone shares.
 * @param {string[]} peers
 * @param {{budget?: number, lossFactors?: Map<string, number>, content?: 'camera' | 'screen'}} [options]
 * @returns {Map<string, PeerPlan>}
 */
export function planBitrates(peers, options = {}) {
  const budget = options.budget && options.budget > 0 ? options.budget : DEFAULT_UPLINK_BUDGET;
  const plans = new Map();
  if (peers.length === 0) return plans;
  const share = Math.min(MAX_PEER_BITRATE, budget / peers.length);
  for (const id of peers) {
    const factor = Math.min(1, Math.max(0, options.lossFactors?.get(id) ?? 1));
    const maxBitrate = Math.floor(Math.max(MIN_PEER_BITRATE, share * factor));
    plans.set(id, { maxBitrate, scaleResolutionDownBy: scaleForBitrate(maxBitrate, options.content) });
  }
  return plans;
}

/**
 * Follows one connection's packet loss and says how much of its share it should use. Loss
 * must last (`badSamples` samples in a row above `badLoss`) before the share drops, and good
 * samples must last longer still before it climbs back, so a single burst changes nothing and
 * the bitrate does not oscillate.
 * @param {{badLoss?: number, goodLoss?: number, badSamples?: number, goodSamples?: number,
 *   down?: number, up?: number, floor?: number}} [options]
 */
export function createLossAdapter(options = {}) {
  const badLoss = options.badLoss ?? 0.05;
  const goodLoss = options.goodLoss ?? 0.02;
  const badSamples = options.badSamples ?? 3;
  const goodSamples = options.goodSamples ?? 5;
  const down = options.down ?? 0.7;
  const up = options.up ?? 1.15;
  const floor = options.floor ?? 0.25;
  let factor = 1;
  let bad = 0;
  let good = 0;

  /**
   * @param {number} lossFraction Packets lost / packets sent since the last sample (0 to 1).
   * @returns {number} the factor to apply to the peer's share.
   */
  function sample(lossFraction) {
    const loss = Number.isFinite(lossFraction) ? lossFraction : 0;
    if (loss > badLoss) {
      bad += 1;
      good = 0;
    } else if (loss < goodLoss) {
      good += 1;
      bad = 0;
    } else {
      bad = 0;
      good = 0;
    }
    if (bad >= badSamples) {
      factor = Math.max(floor, factor * down);
      bad = 0;
    } else if (good >= goodSamples && factor < 1) {
      factor = Math.min(1, factor * up);
      good = 0;
    }
    return factor;
  }

  return { sample, factor: () => factor };
}

/**
 * The sender parameters with the plan applied to every encoding, or null when they already
 * match it (within 5 %) or the sender has no encodings yet (before negotiation, when
 * setParameters refuses any change), so that setParameters is not called for nothing.
 * @param {RTCRtpSendParameters} parameters From RTCRtpSender.getParameters().
 * @param {PeerPlan} plan
 * @returns {RTCRtpSendParameters | null}
 */
export function applyPlan(parameters, plan) {
  const encodings = parameters.encodings ?? [];
  if (encodings.length === 0) return null;
  const same = encodings.every((encoding) =>
    encoding.maxBitrate !== undefined && Math.abs(encoding.maxBitrate - plan.maxBitrate) <= plan.maxBitrate * 0.05
    && encoding.scaleResolutionDownBy === plan.scaleResolutionDownBy);
  if (same) return null;
  return {
    ...parameters,
    encodings: encodings.map((encoding) => ({
      ...encoding,
      maxBitrate: plan.maxBitrate,
      scaleResolutionDownBy: plan.scaleResolutionDownBy,
    })),
  };
}
