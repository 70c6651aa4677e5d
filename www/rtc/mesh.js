// The mesh: one RTCPeerConnection per remote peer (remote-peer.js), each with its own perfect
// negotiation over its signaling route (the data channel while the connection is up, the
// server otherwise: ../mesh/route.js), kept in the peer book (peer-book.js) with the economy
// that decides whether this peer must hold an event stream. The mesh decides who offers (the
// newcomer), what a join, leave or reset from the server or a note on a channel does to a
// connection, and how a track change reaches every connection. Media capture, the data
// channel's content and the DOM belong elsewhere; connections come from `newConnection`, so
// tests pass fakes.
'use strict';

import { SERVER_TYPE } from '../mesh/route.js';
import { realTimers } from '../timers.js';
import { connectionStateOf } from './ice-restart.js';
import { isPolite } from './negotiation.js';
import { createPeerBook } from './peer-book.js';

/**
 * @typedef {object} MeshOptions
 * @property {import('./call.js').CallView} view
 * @property {(message: {to: string, type: string, data?: unknown}) => void} post The
 *   transport's post.
 * @property {() => RTCPeerConnection} newConnection
 * @property {() => MediaStream} newStream A MediaStream for a peer's incoming tracks.
 * @property {() => import('./remote-peer.js').LocalTracks} localTracks
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

/**
 * Sends `track` (or nothing) as this kind to every peer. replaceTrack needs no
 * renegotiation; a peer that had no sender of this kind gets one added, which renegotiates
 * by itself.
 * @param {Iterable<import('./remote-peer.js').RemotePeer>} peers
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
 * @param {Map<string, import('./remote-peer.js').RemotePeer>} peers
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
 * What a message from the server does to the mesh: a join prepares a connection for the
 * newcomer's offer, a leave removes the peer, a reset replaces the connection, and signaling
 * goes to the peer's route.
 * @param {import('./peer-book.js').PeerBook} book
 * @param {import('../net/protocol.js').ServerMessage} message
 */
function handleServerMessage(book, message) {
  const { economy } = book;
  const from = message.from;
  if (message.type === 'join') {
    // The newcomer sends the first offer. The connection is set up now, ahead of it, so
    // that the offer finds everything ready.
    book.add(from);
    economy.serverEvent(message);
  } else if (message.type === 'leave') {
    book.remove(from);
    economy.serverEvent(message);
  } else if (message.type === 'reset') {
    // The other side gave up on this connection and starts a fresh one.
    book.resetBy(from);
  } else if (message.type === 'description' || message.type === 'candidates' || message.type === SERVER_TYPE) {
    // Also covers a peer whose join event this client never saw (it joined under a new
    // id while this client's stream was down): it is a peer all the same.
    // Candidates alone cannot start a connection; they belong to an offer that comes first.
    const inner = message.type === SERVER_TYPE ? /** @type {{type?: unknown}} */ (message.data ?? {}).type : message.type;
    const peer = book.peers.get(from) ?? (inner === 'description' ? book.add(from) : null);
    if (peer) economy.seen(from);
    peer?.route.fromServer(message);
  }
}

/**
 * A message on the data channel of `peerId`, before chat sees it: the route's signaling, or
 * a note about the room (or the reset of this very connection). Returns whether it was one
 * of those.
 * @param {import('./peer-book.js').PeerBook} book
 * @param {string} peerId
 * @param {unknown} text
 * @returns {boolean}
 */
function handleChannelMessage(book, peerId, text) {
  if (typeof text !== 'string') return false;
  if (book.peers.get(peerId)?.route.fromChannel(text)) {
    book.economy.update();
    return true;
  }
  const note = book.economy.note(text, peerId);
  if (!note) return false;
  if (note.note === 'join') book.add(note.peer);
  else if (note.note === 'reset') book.resetBy(note.peer);
  else if (note.note === 'wake') book.expect(note.peer);
  else book.remove(note.peer);
  return true;
}

/**
 * @param {MeshOptions} options
 */
export function createMesh(options) {
  const { view, channels } = options;
  const book = createPeerBook({ ...options, timers: options.negotiation?.timers ?? realTimers }, options.economy);
  const { peers, economy } = book;

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
      book.removeAll();
      book.setSelf(peerId);
      view.selfId(peerId);
      for (const id of others) book.add(id, { offering: true });
      economy.joined(others, peerId);
      book.startTicking();
    },

    /** @param {import('../net/protocol.js').ServerMessage} message */
    handle: (message) => handleServerMessage(book, message),

    /**
     * A message on the data channel of `peerId`, before chat sees it: the route's signaling,
     * or a note about the room. Returns whether it was one of those.
     * @param {string} peerId
     * @param {unknown} text
     * @returns {boolean}
     */
    fromChannel: (peerId, text) => handleChannelMessage(book, peerId, text),

    /** @param {string} peerId Its data channel opened or closed. */
    channelChanged: book.linkChanged,

    /** Tells the others over the channels that this peer leaves now ("I am leaving"). */
    leaving: () => economy.leaving(),

    doorkeeper: () => economy.doorkeeper(),

    /** @param {string} id A peer that is no longer in the room. */
    remove: book.remove,

    /** Drops every connection and forgets this client's id (hang-up). */
    leave() {
      book.stopTicking();
      book.removeAll();
      book.setSelf(null);
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

    selfId: book.selfId,

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
    snapshot: () => snapshotOf(peers, book.selfId(), channels),
  };
}
