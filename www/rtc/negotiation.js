// Perfect negotiation for one RTCPeerConnection (the pattern of MDN's "Perfect negotiation").
// It owns the offer/answer exchange (an offering half and a receiving half sharing the
// makingOffer / ignoreOffer flags) and trickle ICE with batched candidates; ice-restart.js,
// which it starts, restarts ICE when the connection fails or stays disconnected. The same
// code runs on both ends of a connection; only the `polite` flag differs, and both ends derive it from the two peer ids, so they always
// disagree about it. It knows nothing of the DOM, of media or of HTTP: the signaling channel is
// injected as {send, onmessage}, and timers are injectable, so tests drive it with fakes.
'use strict';

import { realTimers } from '../timers.js';
import { createBatcher } from './batcher.js';
import { createIceRestarts } from './ice-restart.js';

/**
 * @typedef {{type: 'description', data: {type: RTCSdpType, sdp?: string}}
 *   | {type: 'candidates', data: RTCIceCandidateInit[]}} SignalMessage
 */

/**
 * The channel to the one remote peer of this connection. `send` must deliver messages in the
 * order it was called. The negotiator assigns `onmessage`; the owner of the channel calls it
 * with each message from the remote peer, and may await the returned promise.
 * @typedef {object} SignalingChannel
 * @property {(message: SignalMessage) => void} send
 * @property {((message: SignalMessage) => Promise<void>) | null} onmessage
 */

/**
 * @typedef {object} NegotiatorOptions
 * @property {RTCPeerConnection} pc
 * @property {boolean} polite The polite side yields when both sides offer at once.
 * @property {SignalingChannel} signaling
 * @property {import('../timers.js').Timers} [timers]
 * @property {number} [candidateDelayMs] How long a burst of candidates is collected at most
 *   (it leaves sooner once it pauses: see batcher.js).
 * @property {number} [disconnectedGraceMs] How long "disconnected" may last before the
 *   impolite side restarts ICE (the polite side waits twice as long).
 * @property {number} [failedGraceMs] How long the polite side leaves a failed connection to the
 *   impolite side's restart before restarting itself.
 * @property {number} [connectTimeoutMs] How long a connection may take to come up before ICE is
 *   restarted (twice as long on the polite side).
 * @property {(error: unknown) => void} [onError] Reports failures nobody can act on.
 * @property {() => void} [onStuck] Called when the connection is still not up after an ICE
 *   restart, so the owner can replace it; without it, ICE is simply restarted again.
 * @property {boolean} [leadsRestarts] This side restarts ICE first when the connection fails
 *   (the other waits twice as long). The side that made the first offer should lead: when the
 *   other side restarts, Firefox (having made the first offer) answers with the opposite DTLS
 *   role and Chrome refuses that answer. Defaults to the impolite side.
 * @property {() => void} [onUnusableAnswer] Called when an answer to this side's offer cannot
 *   be applied (after rolling the offer back), so the owner can replace the connection at
 *   once; without it the connection waits for the restart timers.
 * @property {() => void} [beforeOffer] Called just before this side makes an offer.
 * @property {() => void} [onTransportFailed] Called when a DTLS transport of the connection
 *   failed, which no ICE restart repairs; without it, ICE is restarted as for any failure.

 * @property {boolean} [waitForOffer] This side answers: it makes no offer of its own until it
 *   has applied the other side's first description. Lets a connection be set up ahead of an
 *   expected offer without the two sides offering at once.
 */

/**
 * @typedef {object} Negotiator
 * @property {() => void} offer Makes the first offer now, without waiting for the browser's
 *   negotiationneeded event, which a busy page may deliver tens of milliseconds later.
 * @property {() => void} restartIce Starts an ICE restart now.
 * @property {() => void} close Stops timers and detaches from the connection (does not close it).
 * @property {() => {makingOffer: boolean, ignoreOffer: boolean, restarts: number}} flags
 */

/**
 * Decides which side of a connection is polite. Both sides compare the same two ids, so
 * exactly one of them is polite, without any extra message.
 * @param {string} localId
 * @param {string} remoteId
 * @returns {boolean}
 */
export function isPolite(localId, remoteId) {
  return localId < remoteId;
}

/**
 * The flags perfect negotiation keeps, shared by its offering and its receiving half.
 * @typedef {object} NegotiationState
 * @property {boolean} makingOffer
 * @property {boolean} ignoreOffer
 * @property {boolean} waitingForOffer
 * @property {boolean} closed
 */

/**
 * The offering half: an offer whenever the browser asks for one (negotiationneeded).
 * @param {RTCPeerConnection} pc
 * @param {NegotiationState} state
 * @param {(description: RTCSessionDescription | null) => void} sendDescription
 * @param {(error: unknown) => void} onError
 * @param {(() => void) | undefined} beforeOffer
 */
function offering(pc, state, sendDescription, onError, beforeOffer) {
  return async function onNegotiationNeeded() {
    // An offer already on its way covers this need too: the browser asks again, once the
    // exchange is over, if something is still left to negotiate.
    if (state.closed || state.makingOffer || state.waitingForOffer) return;
    beforeOffer?.();
    try {
      state.makingOffer = true;
      await pc.setLocalDescription();
      sendDescription(pc.localDescription);
    } catch (error) {
      onError(error);
    } finally {
      state.makingOffer = false;
    }
  };
}

/**
 * @typedef {object} ReceivingParts
 * @property {RTCPeerConnection} pc
 * @property {boolean} polite
 * @property {NegotiationState} state
 * @property {(description: RTCSessionDescription | null) => void} sendDescription
 * @property {(() => void) | undefined} onUnusableAnswer
 * @property {(error: unknown) => void} onError
 */

/**
 * The receiving half: the other side's descriptions (answering its offers, yielding or
 * ignoring on a collision) and candidates. Returns the handler of one signaling message.
 * @param {ReceivingParts} parts
 * @returns {(message: SignalMessage) => Promise<void>}
 */
function receiving(parts) {
  const { pc, polite, state, sendDescription, onError } = parts;

  /** @param {RTCSessionDescriptionInit} description */
  async function onDescription(description) {
    const offerCollision =
      description.type === 'offer' && (state.makingOffer || pc.signalingState !== 'stable');
    state.ignoreOffer = !polite && offerCollision;
    if (state.ignoreOffer) return;
    if (description.type === 'answer') {
      await onAnswer(description);
      return;
    }
    // On a collision the polite side's setRemoteDescription rolls its own offer back implicitly.
    await pc.setRemoteDescription(description);
    state.waitingForOffer = false;
    if (description.type === 'offer') {
      await pc.setLocalDescription();
      sendDescription(pc.localDescription);
    }
  }

  /**
   * An answer that cannot be applied (Chrome refuses one that flips the DTLS role: "Failed to
   * set SSL role for the transport") would leave this side in have-local-offer, which blocks
   * every later negotiation until the restart timers give up. The offer is rolled back and
   * the owner replaces the connection at once.
   * @param {RTCSessionDescriptionInit} description
   */
  async function onAnswer(description) {
    try {
      await pc.setRemoteDescription(description);
      state.waitingForOffer = false;
    } catch (error) {
      console.info('negotiation: the answer cannot be applied, replacing the connection:', error);
      if (pc.signalingState === 'have-local-offer') {
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      }
      if (parts.onUnusableAnswer && !state.closed) parts.onUnusableAnswer();
      else throw error;
    }
  }

  /**
   * Whether a candidate belongs to another description than the remote one in place: one of
   * an offer this side ignored, or of a connection that was replaced (its candidates may
   * still be on their way). Such candidates are dropped quietly.
   * @param {RTCIceCandidateInit} candidate
   */
  function isStale(candidate) {
    const remote = pc.remoteDescription;
    if (state.ignoreOffer || !remote) return true;
    const ufrag = candidate.usernameFragment;
    return Boolean(ufrag) && !(remote.sdp ?? '').includes(`a=ice-ufrag:${ufrag}`);
  }

  /** @param {RTCIceCandidateInit[]} batch */
  async function onCandidates(batch) {
    for (const candidate of batch) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (error) {
        if (!isStale(candidate)) onError(error);
      }
    }
  }

  return async function handle(message) {
    if (state.closed) return;
    try {
      if (message.type === 'description') await onDescription(message.data);
      else if (message.type === 'candidates' && Array.isArray(message.data)) {
        await onCandidates(message.data);
      }
    } catch (error) {
      onError(error);
    }
  };
}

/**
 * Attaches perfect negotiation to `pc`. Call it before adding tracks or data channels, so the
 * first `negotiationneeded` event is not missed.
 * @param {NegotiatorOptions} options
 * @returns {Negotiator}
 */
export function negotiate(options) {
  const { pc, polite, signaling } = options;
  const timers = options.timers ?? realTimers;
  const onError = options.onError ?? ((error) => console.warn('negotiation:', error));
  /** @type {NegotiationState} */
  const state = { makingOffer: false, ignoreOffer: false, waitingForOffer: options.waitForOffer ?? false, closed: false };
  // Messages are handled one after another: a description applied while the previous one is
  // still being applied would see a half-updated signalingState and misjudge a collision.
  /** @type {Promise<void>} */
  let queue = Promise.resolve();

  const candidates = createBatcher(
    (batch) => signaling.send({ type: 'candidates', data: batch }),
    { delayMs: options.candidateDelayMs ?? 40, timers },
  );

  /** @param {RTCSessionDescription | RTCSessionDescriptionInit | null} description */
  function sendDescription(description) {
    if (!description) return;
    // Candidates gathered for the previous description must not arrive after the new one.
    candidates.flush();
    signaling.send({ type: 'description', data: { type: description.type, sdp: description.sdp } });
  }

  /** @param {{candidate: RTCIceCandidate | null}} event */
  function onIceCandidate({ candidate }) {
    // A null candidate marks the end of gathering; every browser copes without it being sent.
    if (!candidate || state.closed) return;
    const init = typeof candidate.toJSON === 'function' ? candidate.toJSON() : candidate;
    candidates.push(init);
  }

  const onNegotiationNeeded = offering(pc, state, sendDescription, onError, options.beforeOffer);
  const handle = receiving({ pc, polite, state, sendDescription, onUnusableAnswer: options.onUnusableAnswer, onError });
  pc.addEventListener('negotiationneeded', onNegotiationNeeded);
  pc.addEventListener('icecandidate', /** @type {any} */ (onIceCandidate));
  const restarts = createIceRestarts({
    ...options,
    leads: options.leadsRestarts ?? !polite,
    timers,
    isClosed: () => state.closed,
  });
  signaling.onmessage = (message) => {
    queue = queue.then(() => handle(message));
    return queue;
  };

  return {
    offer() {
      if (pc.signalingState === 'stable') onNegotiationNeeded();
    },
    restartIce: restarts.restartIce,
    close() {
      state.closed = true;
      restarts.stop();
      candidates.cancel();
      pc.removeEventListener('negotiationneeded', onNegotiationNeeded);
      pc.removeEventListener('icecandidate', /** @type {any} */ (onIceCandidate));
      signaling.onmessage = null;
    },
    flags() {
      return { makingOffer: state.makingOffer, ignoreOffer: state.ignoreOffer, restarts: restarts.count() };
    },
  };
}
