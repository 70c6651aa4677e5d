// The mesh: one RTCPeerConnection per remote peer, each with its own perfect negotiation over
// its signaling route (the data channel while the connection is up, the server otherwise:
// ../mesh/route.js). It decides who offers (the newcomer), what a join, leave or reset from
// the server does to a connection, which local tracks a new connection starts with, and how a
// track change reaches every connection; its economy (../mesh/economy.js) decides from the
// connections whether this peer must hold an event stream. Media capture, the data channel's
// content and the DOM belong elsewhere; connections come from `newConnection`, so tests pass
// fakes.
'use strict';

import { createEconomy } from '../mesh/economy.js';
import { createRoute, SERVER_TYPE } from '../mesh/route.js';
import { realTimers } from '../timers.js';
import { connectionStateOf } from './ice-restart.js';
import { isPolite, negotiate } from './negotiation.js';

/** How often the mesh looks at what has no event of its own (a transport's queue, a closed connection). */
const TICK_MS = 1000;

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
 * @typedef {object} MeshOptions
 * @property {import('./call.js').CallView} view
 * @property {(message: {to: string, type: string, data?: unknown}) => void} post The
 *   transport's post.
 * @property {() => RTCPeerConnection} newConnection
 * @property {() => MediaStream} newStream A MediaStream for a peer's incoming tracks.
 * @property {() => LocalTracks} localTracks
 * @property {import('./data-channel.js').Channels} channels
 * @property {(pc: RTCPeerConnection) => Promise<string | null>} [safetyCode] Computes a
 *   connected connection's safety code (absent where WebCrypto is: no code is shown).
 * @property {Partial<import('./negotiation.js').NegotiatorOptions>} [negotiation] Extra
 *   options for every negotiator (tests pass fake timers).
 * @property {MeshEconomyOptions} [economy] Without it, this peer always holds its stream.
 */

/**
 * What the mesh's economy needs from the rest of the client.
 * @typedef {object} MeshEconomyOptions
 * @property {() => boolean} capable Data channels exist and the host streams held responses.
 * @property {() => boolean} busy The transport is joining or has messages to post.
 * @property {(quiet: boolean) => void} setQuiet The transport's quiet mode.
 */

/** @param {RTCPeerConnection} pc */
function isUp(pc) {
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
 * @param {MeshOptions['safetyCode']} safetyCode
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
 * Sends `track` (or nothing) as this kind to every peer. replaceTrack needs no
 * renegotiation; a peer that had no sender of this kind gets one added, which renegotiates
 * by itself.
 * @param {Iterable<RemotePeer>} peers
 * @param {'audio' | 'video'} kind
 * @param {MediaStreamTrack | null} track
 * @param {MediaStream} stream
 */
async function sendTrackTo(peers, kind, track, stream) {
  const work = [];
  for (const peer of peers) {
    const sender = peer.senders[kind];
    if (sender) work.push(sender.replaceTrack(track).catch((error) => console.warn('replaceTrack:', error)));
    else if (track) peer.senders[kind] = peer.pc.addTrack(track, stream);
  }
  await Promise.all(work);
}

/**
 * @param {Map<string, RemotePeer>} peers
 * @param {string | null} selfId
 * @param {import('./data-channel.js').Channels} channels
 */
function snapshotOf(peers, selfId, channels) {
  const snapshot = new Map();
  for (const [id, peer] of peers) {
    snapshot.set(id, {
      connectionState: connectionStateOf(peer.pc),
      iceConnectionState: peer.pc.iceConnectionState,
      signalingState: peer.pc.signalingState,
      channelState: channels.state(id),
      polite: selfId ? isPolite(selfId, id) : null,
      route: peer.route.counts(),
    });
  }
  return snapshot;
}

/**
 * @param {MeshOptions} options
 */
export function createMesh(options) {
  const { view, channels } = options;
  /** @type {Map<string, RemotePeer>} */
  const peers = new Map();
  /** @type {string | null} */
  let selfId = null;
  const timers = options.negotiation?.timers ?? realTimers;
  /** @type {unknown} */
  let tickTimer = null;

  // Who keeps the held stream: in a connected call only the doorkeeper, while the others read
  // their inbox now and then and the data channels carry the call's signaling.
  const economy = createEconomy({
    capable: () => options.economy?.capable() ?? false,
    peers: () => [...peers.keys()],
    linked: (id) => {
      const peer = peers.get(id);
      return Boolean(peer) && channels.state(id) === 'open' && isUp(peer.pc);
    },
    pending: (id) => {
      const peer = peers.get(id);
      return !peer || peer.route.pending() || peer.pc.signalingState !== 'stable';
    },
    busy: () => options.economy?.busy() ?? true,
    broadcast: (text) => channels.broadcast(text),
    apply: (mode) => options.economy?.setQuiet(mode === 'quiet'),
    timers,
  });

  // A connection closed under the mesh (the browser gives one up without an event) is started
  // afresh through the server; everything else only needs a fresh look.
  function tick() {
    tickTimer = timers.setTimeout(tick, TICK_MS);
    for (const [id, peer] of peers) if (peer.pc.signalingState === 'closed') resetPeer(id);
    economy.update();
  }

  function stopTicking() {
    if (tickTimer !== null) timers.clearTimeout(tickTimer);
    tickTimer = null;
  }

  /**
   * @param {string} id
   * @param {{offering?: boolean}} [how] offering: this side makes the first offer; otherwise
   *   it waits for the other side's.
   * @returns {RemotePeer | null}
   */
  function addPeer(id, how = {}) {
    if (!selfId || id === selfId) return null;
    const existing = peers.get(id);
    if (existing) return existing;

    const pc = options.newConnection();
    const route = createRoute({
      post: (message) => options.post({ to: id, type: message.type, data: message.data }),
      linkUp: () => isUp(pc),
      timers,
    });
    const polite = isPolite(selfId, id);
    const negotiator = negotiate({
      ...options.negotiation,
      pc,
      polite,
      signaling: route,
      waitForOffer: !how.offering,
      // The side that makes the first offer leads ICE restarts, as it keeps the DTLS role it
      // chose; it alone also replaces a connection that a restart did not bring up, so the two
      // sides never replace the connection at the same time.
      leadsRestarts: how.offering === true,
      onStuck: how.offering ? () => resetPeer(id) : undefined,
      // Only the side whose offer it was gets an answer it cannot apply.
      onUnusableAnswer: () => resetPeer(id),
    });
    route.attach(channels.attach(id, pc));
    /** @type {RemotePeer} */
    const peer = { id, pc, negotiator, route, stream: options.newStream(), senders: { audio: null, video: null } };
    peers.set(id, peer);
    view.peerAdded(id);
    addLocalTracks(peer, options.localTracks(), how.offering === true);
    watch(peer, () => peers.get(id) === peer, view, options.safetyCode);
    for (const event of ['connectionstatechange', 'iceconnectionstatechange', 'signalingstatechange']) {
      pc.addEventListener(event, () => linkChanged(id));
    }
    view.peerConnectionState(id, connectionStateOf(pc));
    if (how.offering) negotiator.offer();
    economy.update();
    return peer;
  }

  /**
   * The connection or the channel of `id` changed: the route may have to fall back to the
   * server, and this peer may have to hold its stream again (or may give it up).
   * @param {string} id
   */
  function linkChanged(id) {
    peers.get(id)?.route.linkChanged();
    economy.update();
  }

  /**
   * Closes the connection to a peer but keeps its tile.
   * @param {string} id
   */
  function dropConnection(id) {
    const peer = peers.get(id);
    if (!peer) return;
    peers.delete(id);
    peer.negotiator.close();
    peer.route.close();
    channels.detach(id);
    peer.pc.close();
    economy.update();
  }

  /** @param {string} id */
  function removePeer(id) {
    const known = peers.has(id);
    dropConnection(id);
    if (known) view.peerRemoved(id);
  }

  function removeAll() {
    for (const id of [...peers.keys()]) removePeer(id);
  }

  /**
   * Replaces a connection that could not be repaired with a new one. The peer is told first,
   * so that it drops its end too and answers the new offer with a fresh connection.
   * @param {string} id
   */
  function resetPeer(id) {
    if (!peers.has(id)) return;
    dropConnection(id);
    options.post({ to: id, type: 'reset' });
    addPeer(id, { offering: true });
  }

  return {
    /**
     * A (re)join: every earlier connection is gone, and the newcomer connects to everyone
     * already there; they answer. Were both sides to offer at once, perfect negotiation would
     * sort it out, but the rollback it needs can stall ICE gathering in some browsers, so the
     * first offer comes from one side only.
     * @param {string} peerId This client's new id.
     * @param {string[]} others The peers already in the room.
     */
    joined(peerId, others) {
      removeAll();
      selfId = peerId;
      view.selfId(selfId);
      for (const id of others) addPeer(id, { offering: true });
      economy.joined(others, peerId);
      stopTicking();
      tick();
    },

    /** @param {import('../net/protocol.js').ServerMessage} message */
    handle(message) {
      const from = message.from;
      if (message.type === 'join') {
        // The newcomer sends the first offer. The connection is set up now, ahead of it, so
        // that the offer finds everything ready.
        addPeer(from);
        economy.serverEvent(message);
      } else if (message.type === 'leave') {
        removePeer(from);
        economy.serverEvent(message);
      } else if (message.type === 'reset') {
        // The other side gave up on this connection and starts a fresh one.
        dropConnection(from);
        addPeer(from);
      } else if (message.type === 'description' || message.type === 'candidates' || message.type === SERVER_TYPE) {
        // Also covers a peer whose join event this client never saw (it joined under a new
        // id while this client's stream was down): it is a peer all the same.
        // Candidates alone cannot start a connection; they belong to an offer that comes first.
        const inner = message.type === SERVER_TYPE ? /** @type {{type?: unknown}} */ (message.data ?? {}).type : message.type;
        const peer = peers.get(from) ?? (inner === 'description' ? addPeer(from) : null);
        if (peer) economy.seen(from);
        peer?.route.fromServer(message);
      }
    },

    /**
     * A message on the data channel of `peerId`, before chat sees it: the route's signaling,
     * or a note about the room. Returns whether it was one of those.
     * @param {string} peerId
     * @param {unknown} text
     * @returns {boolean}
     */
    fromChannel(peerId, text) {
      if (typeof text !== 'string') return false;
      if (peers.get(peerId)?.route.fromChannel(text)) {
        economy.update();
        return true;
      }
      const note = economy.note(text, peerId);
      if (!note) return false;
      if (note.note === 'join') addPeer(note.peer);
      else removePeer(note.peer);
      return true;
    },

    /** @param {string} peerId Its data channel opened or closed. */
    channelChanged: linkChanged,

    /** Tells the others over the channels that this peer leaves now ("I am leaving"). */
    leaving: () => economy.leaving(),

    doorkeeper: () => economy.doorkeeper(),

    /** @param {string} id A peer that is no longer in the room. */
    remove: removePeer,

    /** Drops every connection and forgets this client's id (hang-up). */
    leave() {
      stopTicking();
      removeAll();
      selfId = null;
    },

    /**
     * @param {'audio' | 'video'} kind
     * @param {MediaStreamTrack | null} track
     */
    sendTrack: (kind, track) => sendTrackTo(peers.values(), kind, track, options.localTracks().stream),

    /** @param {RTCConfiguration} configuration New ICE servers for every connection. */
    setConfiguration(configuration) {
      for (const peer of peers.values()) {
        try {
          peer.pc.setConfiguration(configuration);
        } catch (error) {
          console.warn('setConfiguration:', error);
        }
      }
    },

    selfId: () => selfId,

    /**
     * Every connection with its video sender, for the stats and bitrate caps of ../ux/monitor.js.
     * @returns {import('../ux/monitor.js').MonitoredPeer[]}
     */
    connections: () => [...peers.values()].map((peer) => ({ id: peer.id, pc: peer.pc, videoSender: peer.senders.video })),

    /**
     * The statistics of the connection to `id` (for debugging and end-to-end tests).
     * @param {string} id
     */
    stats: (id) => peers.get(id)?.pc.getStats() ?? null,

    /** Read-only snapshot for debugging and end-to-end tests. */
    snapshot: () => snapshotOf(peers, selfId, channels),
  };
}
