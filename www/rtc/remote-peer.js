// One remote peer of the mesh: its RTCPeerConnection with the perfect negotiation that runs
// over the connection's signaling route (../mesh/route.js), its chat channel, the local
// tracks a new connection starts with, and what the connection reports to the view (incoming
// tracks, state changes, the safety code) while it is the peer's current one. It judges
// whether the link is up (through an ICE restart too) and when the connection is beyond
// repair (an unusable answer, a failed DTLS transport, a channel that stopped delivering). It
// decides nothing about the room: who offers, and how a connection is replaced, are the
// mesh's (mesh.js, peer-book.js), passed in as `offering` and `onReplace`.
'use strict';

import { encodeMeshNote } from '../mesh/doorkeeper.js';
import { createRoute, SERVER_TYPE } from '../mesh/route.js';
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
 * @property {() => boolean} linkUp Whether the connection reaches the other side (see
 *   followLink).
 * @property {() => boolean} restarting An ICE restart between different engines is under way
 *   (see followRestarts).
 * @property {boolean} replacement It replaces a connection this side gave up on.
 * @property {boolean} expecting Its messages come through the server for a moment (a wake
 *   note): this peer holds its stream.
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

/**
 * Whether a connection reaches the other side, after its state became `state`. An ICE
 * restart of a working connection moves Firefox to "connecting" ("checking") from the moment
 * it sets its restart offer, while the old candidate pair, DTLS and the data channel go on
 * working; were the link judged down then, the restart's own offer would go through the
 * server to a peer that may be quiet, and wait for its next poll. So "connecting" keeps what
 * the link was: up through a restart, down until a new connection first connects.
 * @param {boolean} wasUp
 * @param {string} state connectionState (or iceConnectionState where it is missing)
 * @returns {boolean}
 */
export function linkUpAfter(wasUp, state) {
  if (state === 'connected' || state === 'completed') return true;
  if (state === 'connecting' || state === 'checking') return wasUp;
  return false;
}

/**
 * @param {RTCSessionDescription | null | undefined} description
 * @returns {string} Its ICE username fragment, or ''.
 */
function iceUfrag(description) {
  return /a=ice-ufrag:(\S+)/.exec(description?.sdp ?? '')?.[1] ?? '';
}

/**
 * Whether the two ends are different browser engines (Firefox and another): only between
 * them does data on the channel during an ICE restart stall the channel (see followRestarts).
 * @param {RTCPeerConnection} pc
 * @returns {boolean}
 */
export function mixedEngines(pc) {
  const local = pc.localDescription?.sdp;
  const remote = pc.remoteDescription?.sdp;
  if (!local || !remote) return false;
  const firefox = (/** @type {string} */ sdp) => /^o=mozilla/m.test(sdp);
  return firefox(local) !== firefox(remote);
}

/**
 * How long after an ICE restart's exchange is over (signaling stable again) its connection
 * still signals through the server and holds the stream: the candidate pair changes then.
 */
const RESTART_WINDOW_MS = 3000;

/**
 * Follows `pc`'s descriptions: from a description with other ICE credentials than before
 * (an ICE restart by either side) until RESTART_WINDOW_MS after signaling is stable again,
 * the connection is restarting. Between Chrome and Firefox, data sent on the channel in that
 * window can stall the channel's association while ICE and DTLS stay connected.
 * @param {RTCPeerConnection} pc
 * @param {import('../timers.js').Timers} timers
 * @param {() => void} onEnd Called when the window closes.
 * @returns {() => boolean} Whether the connection is restarting.
 */
export function followRestarts(pc, timers, onEnd) {
  let restarting = false;
  let known = { local: '', remote: '' };
  /** @type {unknown} */
  let timer = null;
  pc.addEventListener('signalingstatechange', () => {
    const now = { local: iceUfrag(pc.localDescription), remote: iceUfrag(pc.remoteDescription) };
    const changed = (side) => known[side] !== '' && now[side] !== '' && now[side] !== known[side];
    if (changed('local') || changed('remote')) restarting = true;
    known = { local: now.local || known.local, remote: now.remote || known.remote };
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    if (!restarting || pc.signalingState !== 'stable') return;
    timer = timers.setTimeout(() => {
      timer = null;
      restarting = false;
      onEnd();
    }, RESTART_WINDOW_MS);
  });
  return () => restarting;
}

/**
 * Follows `pc`'s state changes with linkUpAfter. Its listeners come first, so whoever else
 * listens to the same events reads the new value.
 * @param {RTCPeerConnection} pc
 * @returns {() => boolean}
 */
export function followLink(pc) {
  let up = linkUpAfter(false, connectionStateOf(pc));
  const follow = () => {
    up = linkUpAfter(up, connectionStateOf(pc));
  };
  pc.addEventListener('connectionstatechange', follow);
  pc.addEventListener('iceconnectionstatechange', follow);
  return () => up;
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
 * How long a channel that left a message unacknowledged may stay silent before the
 * connection is replaced: its association may still recover by itself (retransmitting), and
 * what it carries then (chat) would be lost with a replaced connection.
 */
const STALL_MS = 5000;

/**
 * The route sends a message again through the server (a `signal` envelope) when the channel
 * went away, or when its acknowledgement did not come in time. The second, on a channel and a
 * connection that both still look fine, means the channel may no longer deliver: after an ICE
 * restart between Chrome and Firefox the data channel's association can stop in one direction
 * or both while ICE and DTLS stay connected, and chat would be lost. When nothing at all
 * arrives on the channel for STALL_MS after that (a late acknowledgement would), only a new
 * connection brings it back, so the connection is replaced.
 * @param {() => boolean} channelUsable
 * @param {PeerHow} how
 * @param {import('../timers.js').Timers} timers
 * @returns {{resent: () => void, heard: () => void}} Call resent on every resend, heard on
 *   every message that arrives on the channel.
 */
function stallWatch(channelUsable, how, timers) {
  /** @type {unknown} */
  let timer = null;
  return {
    resent() {
      if (timer !== null || !channelUsable()) return;
      timer = timers.setTimeout(() => {
        timer = null;
        if (how.isCurrent() && channelUsable()) how.onReplace();
      }, STALL_MS);
    },
    heard() {
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}

/**
 * @typedef {object} PeerHow
 * @property {string} id The remote peer.
 * @property {string} selfId This client's id.
 * @property {boolean} offering This side makes the first offer; otherwise it waits for the
 *   other side's.
 * @property {boolean} replacement It replaces a connection this side gave up on.
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
  const linkUp = followLink(pc);
  // Between Chrome and Firefox, while a restart is under way (see followRestarts), the
  // signaling goes through the server and both sides hold their streams. A peer that may be
  // quiet is told first, over the channel, before every offer (a restart's offer can fail
  // Firefox's DTLS transport, and the channel with it, at once).
  const restartingFirefox = followRestarts(pc, parts.timers, () => how.onLinkChange());
  const restarting = () => restartingFirefox() && mixedEngines(pc);
  const channelUsable = () => linkUp() && !restarting();
  const stall = stallWatch(() => channelUsable() && parts.channels.state(id) === 'open', how, parts.timers);
  const route = createRoute({
    post: (message) => {
      parts.post({ to: id, type: message.type, data: message.data });
      if (message.type === SERVER_TYPE) stall.resent();
    },
    linkUp: channelUsable,
    timers: parts.timers,
  });
  const negotiator = negotiate({
    ...parts.negotiation,
    pc,
    polite: isPolite(how.selfId, id),
    signaling: route,
    waitForOffer: !offering,
    beforeOffer: () => {
      if (mixedEngines(pc) && linkUp()) parts.channels.sendTo(id, encodeMeshNote('wake', how.selfId));
    },
    // The side that makes the first offer leads ICE restarts, as it keeps the DTLS role it
    // chose; it alone also replaces a connection that a restart did not bring up, so the two
    // sides never replace the connection at the same time.
    leadsRestarts: offering,
    onStuck: offering ? how.onReplace : undefined,
    // Only the side whose offer it was gets an answer it cannot apply.
    onUnusableAnswer: how.onReplace,
    // Either side may see its DTLS transport fail; no ICE restart repairs that.
    onTransportFailed: how.onReplace,
  });
  const channel = parts.channels.attach(id, pc);
  channel.addEventListener('message', stall.heard);
  route.attach(channel);
  /** @type {RemotePeer} */
  const peer = {
    id, pc, negotiator, route, stream: parts.newStream(), senders: { audio: null, video: null }, linkUp, restarting, replacement: how.replacement, expecting: false,
  };
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
