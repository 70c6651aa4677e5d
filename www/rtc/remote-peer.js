// One remote peer of the mesh: its RTCPeerConnection with the perfect negotiation that runs
// over the connection's signaling route (../mesh/route.js), its chat channel, the local
// tracks a new connection starts with, and what the connection reports to the view (incoming
// tracks, state changes, the safety code) while it is the peer's current one. It decides
// nothing about the room: who offers, and what happens when a connection must be replaced,
// are the mesh's (mesh.js), passed in as `offering` and `onReplace`.
'use strict';

import { createRoute } from '../mesh/route.js';
import { connectionStateOf } from './ice-restart.js';
import { isPolite, negotiate } from './negotiation.js';

/**
 * @typedef {object} RemotePeer
 * @property {string} id
 * @property {RTCPeerConnection} pc
 * @property {import('./negotiation.js').Negotiator} negotiator
 * @property {import('../mesh/route.js').Route} route Its negotiation's signaling.
 * @property {MediaStream} stream
 * @property {{audio: RTCRtpSender | null, video: RTCRtpSender | null}} senders
 */

/**
 * What a new connection sends: the tracks of each kind (or null), announced in `stream` so
 * that a peer's ontrack groups them.
 * @typedef {{audio: MediaStreamTrack | null, video: MediaStreamTrack | null, stream: MediaStream}} LocalTracks
 */

/**
 * What every connection of a mesh shares (the parts of MeshOptions a peer needs).
 * @typedef {object} PeerParts
 * @property {import('./call.js').CallView} view
 * @property {(message: {to: string, type: string, data?: unknown}) => void} post
 * @property {() => RTCPeerConnection} newConnection
 * @property {() => MediaStream} newStream
 * @property {() => LocalTracks} localTracks
 * @property {import('./data-channel.js').Channels} channels
 * @property {(pc: RTCPeerConnection) => Promise<string | null>} [safetyCode]
 * @property {Partial<import('./negotiation.js').NegotiatorOptions>} [negotiation]
 * @property {import('../timers.js').Timers} timers
 */

/** @param {RTCPeerConnection} pc */
export function isUp(pc) {
  const state = connectionStateOf(pc);
  return state === 'connected' || state === 'completed';
}

/**
 * Gives a new connection the local tracks.
 * @param {RemotePeer} peer
 * @param {LocalTracks} local
 * @param {boolean} offering
 */
function addLocalTracks(peer, local, offering) {
  if (offering) {
    // The offer goes out at once, camera and microphone ready or not: a track that comes
    // later takes its place in the sender with replaceTrack, which needs no new offer.
    const init = { direction: /** @type {const} */ ('sendrecv'), streams: [local.stream] };
    peer.senders.audio = peer.pc.addTransceiver(local.audio ?? 'audio', init).sender;
    peer.senders.video = peer.pc.addTransceiver(local.video ?? 'video', init).sender;
  } else {
    // The answering side adds tracks before the offer is applied, so that the offer's
    // sections take them up (a transceiver added on its own would need another offer).
    if (local.audio) peer.senders.audio = peer.pc.addTrack(local.audio, local.stream);
    if (local.video) peer.senders.video = peer.pc.addTrack(local.video, local.stream);
  }
}

/**
 * Reports a connection's incoming tracks, state changes and, once it is connected, its safety
 * code to the view while it is the peer's current one.
 * @param {RemotePeer} peer
 * @param {() => boolean} isCurrent
 * @param {import('./call.js').CallView} view
 * @param {PeerParts['safetyCode']} safetyCode
 */
function watch(peer, isCurrent, view, safetyCode) {
  const { id, pc } = peer;
  pc.addEventListener('track', (event) => {
    if (!isCurrent()) return;
    if (!peer.stream.getTracks().includes(event.track)) peer.stream.addTrack(event.track);
    view.peerStream(id, peer.stream);
  });
  let codeAsked = false;
  const reportState = () => {
    if (!isCurrent()) return;
    const state = connectionStateOf(pc);
    view.peerConnectionState(id, state);
    if (state !== 'connected' || codeAsked || !safetyCode) return;
    codeAsked = true;
    safetyCode(pc).then((code) => {
      if (code && isCurrent()) view.peerSafetyCode(id, code);
    }, (error) => console.warn('safety code:', error));
  };
  pc.addEventListener('connectionstatechange', reportState);
  pc.addEventListener('iceconnectionstatechange', reportState);
}

/**
 * @typedef {object} PeerHow
 * @property {string} id The remote peer.
 * @property {string} selfId This client's id.
 * @property {boolean} offering This side makes the first offer; otherwise it waits for the
 *   other side's.
 * @property {(peer: RemotePeer) => void} adopt The mesh takes the new peer in, before anything
 *   of it reaches the view.
 * @property {() => boolean} isCurrent Whether the mesh still holds this connection for `id`.
 * @property {() => void} onReplace The connection cannot be repaired: replace it.
 * @property {() => void} onLinkChange The connection, its channel or its signaling changed.
 */

/**
 * Makes the connection to one remote peer and starts its negotiation; the offering side
 * sends its offer at once.
 * @param {PeerParts} parts
 * @param {PeerHow} how
 * @returns {RemotePeer}
 */
export function connectPeer(parts, how) {
  const { id, offering } = how;
  const pc = parts.newConnection();
  const route = createRoute({
    post: (message) => parts.post({ to: id, type: message.type, data: message.data }),
    linkUp: () => isUp(pc),
    timers: parts.timers,
  });
  const negotiator = negotiate({
    ...parts.negotiation,
    pc,
    polite: isPolite(how.selfId, id),
    signaling: route,
    waitForOffer: !offering,
    // The side that makes the first offer leads ICE restarts, as it keeps the DTLS role it
    // chose; it alone also replaces a connection that a restart did not bring up, so the two
    // sides never replace the connection at the same time.
    leadsRestarts: offering,
    onStuck: offering ? how.onReplace : undefined,
    // Only the side whose offer it was gets an answer it cannot apply.
    onUnusableAnswer: how.onReplace,
  });
  route.attach(parts.channels.attach(id, pc));
  /** @type {RemotePeer} */
  const peer = { id, pc, negotiator, route, stream: parts.newStream(), senders: { audio: null, video: null } };
  how.adopt(peer);
  parts.view.peerAdded(id);
  addLocalTracks(peer, parts.localTracks(), offering);
  watch(peer, how.isCurrent, parts.view, parts.safetyCode);
  for (const event of ['connectionstatechange', 'iceconnectionstatechange', 'signalingstatechange']) {
    pc.addEventListener(event, how.onLinkChange);
  }
  parts.view.peerConnectionState(id, connectionStateOf(pc));
  if (offering) negotiator.offer();
  return peer;
}
