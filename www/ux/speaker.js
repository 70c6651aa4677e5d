// Who is speaking: turns audio levels, sampled a few times a second for every participant
// (the own microphone included), into the set of people speaking now and the one active
// speaker the page highlights, with enough hysteresis that the highlight does not flicker
// between two voices or drop between words. Also notices someone talking while muted. Pure
// arithmetic over (level, time) samples: it never reads audio or stats itself.
'use strict';

/**
 * Levels are linear amplitudes from 0 to 1, as WebRTC's audioLevel: speech at a normal
 * distance from a laptop microphone is around 0.05 to 0.3, a quiet room below 0.01.
 * @typedef {object} SpeakerOptions
 * @property {number} [startLevel] A sample this loud starts speech.
 * @property {number} [stopLevel] Samples this loud keep speech going.
 * @property {number} [holdMs] Speech ends only after this long below stopLevel (pauses
 *   between words are shorter).
 * @property {number} [switchMs] Another speaker takes the highlight from one still speaking
 *   only after being clearly louder for this long.
 * @property {number} [margin] "Clearly louder": this many times the current speaker's level.
 */

/**
 * @typedef {object} SpeakerState
 * @property {Set<string>} speaking Everyone speaking now.
 * @property {string | null} active The highlighted speaker, null when nobody speaks.
 * @property {string | null} recent The last one highlighted, kept through silence (for a
 *   spotlight that should not go blank).
 */

/**
 * @param {SpeakerOptions} [options]
 */
export function createSpeakerTracker(options = {}) {
  const startLevel = options.startLevel ?? 0.02;
  const stopLevel = options.stopLevel ?? 0.01;
  const holdMs = options.holdMs ?? 900;
  const switchMs = options.switchMs ?? 1200;
  const margin = options.margin ?? 1.5;

  /** @type {Map<string, {speaking: boolean, lastLoudAt: number, score: number}>} */
  const people = new Map();
  /** @type {string | null} */
  let active = null;
  /** @type {string | null} */
  let recent = null;
  /** @type {{id: string, since: number} | null} */
  let challenger = null;

  /**
   * @param {Iterable<[string, number]>} levels One sample per participant.
   * @param {number} now Milliseconds.
   * @returns {SpeakerState}
   */
  function update(levels, now) {
    for (const [id, raw] of levels) {
      const level = Number.isFinite(raw) && raw > 0 ? Math.min(1, raw) : 0;
      const person = people.get(id) ?? { speaking: false, lastLoudAt: -Infinity, score: 0 };
      if (level >= (person.speaking ? stopLevel : startLevel)) person.lastLoudAt = now;
      person.speaking = now - person.lastLoudAt <= holdMs;
      // A short average, so that one loud syllable does not outweigh a steady voice.
      person.score = person.speaking ? 0.6 * person.score + 0.4 * level : 0;
      people.set(id, person);
    }

    const speaking = new Set([...people].filter(([, person]) => person.speaking).map(([id]) => id));
    let loudest = null;
    for (const id of speaking) {
      if (loudest === null || (people.get(id)?.score ?? 0) > (people.get(loudest)?.score ?? 0)) loudest = id;
    }

    if (active === null || !speaking.has(active)) {
      active = loudest;
      challenger = null;
    } else if (loudest !== null && loudest !== active
      && (people.get(loudest)?.score ?? 0) > margin * (people.get(active)?.score ?? 0)) {
      if (challenger?.id !== loudest) challenger = { id: loudest, since: now };
      if (now - challenger.since >= switchMs) {
        active = loudest;
        challenger = null;
      }
    } else {
      challenger = null;
    }
    if (active !== null) recent = active;
    return { speaking, active, recent };
  }

  /**
   * Forgets a participant who left.
   * @param {string} id
   */
  function forget(id) {
    people.delete(id);
    if (active === id) active = null;
    if (recent === id) recent = null;
    if (challenger?.id === id) challenger = null;
  }

  return { update, forget };
}

/**
 * Watches the own microphone's level while it is muted and says when to show "you are
 * muted": when at least half of the samples of the last `windowMs` were speech. It stays up
 * `showMs` after the last loud sample and goes at once on unmute.
 * @param {{level?: number, windowMs?: number, showMs?: number}} [options]
 */
export function createMutedTalkHint(options = {}) {
  const threshold = options.level ?? 0.03;
  const windowMs = options.windowMs ?? 1500;
  const showMs = options.showMs ?? 4000;
  /** @type {{at: number, loud: boolean}[]} */
  let samples = [];
  let shownUntil = -Infinity;

  /**
   * @param {number} level The microphone's level, measured even though nothing is sent.
   * @param {boolean} muted
   * @param {number} now
   * @returns {boolean} whether the hint should be visible.
   */
  function update(level, muted, now) {
    if (!muted) {
      samples = [];
      shownUntil = -Infinity;
      return false;
    }
    const loud = level >= threshold;
    samples.push({ at: now, loud });
    samples = samples.filter((sample) => now - sample.at <= windowMs);
    const loudCount = samples.filter((sample) => sample.loud).length;
    if (loud && samples.length >= 3 && loudCount * 2 >= samples.length) shownUntil = now + showMs;
    return now < shownUntil;
  }

  /** Hides the hint until the next time speech is detected. */
  function dismiss() {
    samples = [];
    shownUntil = -Infinity;
  }

  return { update, dismiss };
}

/**
 * The average level between two stats samples, from the cumulative energy WebRTC reports
 * (totalAudioEnergy, totalSamplesDuration): unlike the instantaneous audioLevel it cannot miss
 * a short sound that fell between two samples.
 * @param {{energy: number, duration: number} | null} before
 * @param {{energy: number, duration: number}} after
 * @returns {number}
 */
export function levelBetween(before, after) {
  if (!before) return 0;
  const duration = after.duration - before.duration;
  const energy = after.energy - before.energy;
  if (!(duration > 0) || !(energy > 0)) return 0;
  return Math.min(1, Math.sqrt(energy / duration));
}

/**
 * The level of a block of samples (a WebAudio analyser's time-domain data) on WebRTC's scale:
 * the root mean square of the peaks of each `block` samples (10 ms at 48 kHz by default), as
 * WebRTC's audioLevel is a peak per 10 ms, so that the own level and the peers' compare.
 * @param {ArrayLike<number>} samples
 * @param {number} [block]
 * @returns {number}
 */
export function envelopeLevel(samples, block = 480) {
  let sum = 0;
  let blocks = 0;
  for (let start = 0; start < samples.length; start += block) {
    let peak = 0;
    const end = Math.min(samples.length, start + block);
    for (let i = start; i < end; i += 1) peak = Math.max(peak, Math.abs(samples[i]));
    sum += peak * peak;
    blocks += 1;
  }
  return blocks === 0 ? 0 : Math.min(1, Math.sqrt(sum / blocks));
}
