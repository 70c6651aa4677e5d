// The mesh's book of remote peers: one current connection per peer id (remote-peer.js makes
// it), adding, dropping and replacing connections, the economy (../mesh/economy.js) that reads
// the connections to decide whether this peer holds an event stream, and the tick that looks
// at what raises no event. It does not decide when a peer is added or removed: the mesh
// (mesh.js) does, from the server's messages and the channels' notes.
'use strict';

import { encodeMeshNote } from '../mesh/doorkeeper.js';
import { createEconomy } from '../mesh/economy.js';
import { isPolite } from './negotiation.js';
import { connectPeer } from './remote-peer.js';

/** How often the mesh looks at what has no event of its own (a transport's queue, a closed connection). */
const TICK_MS = 1000;

/**
 * How long a replaced connection stays open after its channel carried the reset note:
 * closing it at once could drop the note before it left.
 */
const LINGER_MS = 1000;

/**
 * How long a wake note keeps this peer's stream held, so that the messages its peer sends
 * through the server arrive at once rather than at the next quiet poll.
 */
const EXPECT_MS = 4000;

/**
 * @typedef {object} PeerBook
 * @property {Map<string, import('./remote-peer.js').RemotePeer>} peers Read only.
 * @property {() => string | null} selfId
 * @property {(id: string | null) => void} setSelf
 * @property {(id: string, how?: {offering?: boolean}) => import('./remote-peer.js').RemotePeer | null} add
 *   A peer's connection, made when there is none yet.
 * @property {(id: string) => void} drop Closes the connection to a peer but keeps its tile.
 * @property {(id: string) => void} remove Drops the peer and its tile.
 * @property {() => void} removeAll
 * @property {(id: string) => void} replace Replaces a connection that cannot be repaired.
 * @property {(id: string) => void} expect The peer `id` sends through the server for a moment.
 * @property {(id: string) => void} resetBy The peer `id` replaced its connection: this side
 *   drops its end and waits for the new offer.
 * @property {(id: string) => void} linkChanged
 * @property {import('../mesh/economy.js').Economy} economy
 * @property {() => void} startTicking
 * @property {() => void} stopTicking
 */

/**
 * Who keeps the held stream: in a connected call only the doorkeeper, while the others read
 * their inbox now and then and the data channels carry the call's signaling.
 * @param {Map<string, import('./remote-peer.js').RemotePeer>} peers
 * @param {import('./data-channel.js').Channels} channels
 * @param {import('./mesh.js').MeshEconomyOptions | undefined} economyOptions
 * @param {import('../timers.js').Timers} timers
 */
function economyOf(peers, channels, economyOptions, timers) {
  return createEconomy({
    capable: () => economyOptions?.capable() ?? false,
    peers: () => [...peers.keys()],
    linked: (id) => {
      const peer = peers.get(id);
      return Boolean(peer) && channels.state(id) === 'open' && peer.linkUp();
    },
    pending: (id) => {
      const peer = peers.get(id);
      return !peer || peer.expecting || peer.restarting() || peer.route.pending() || peer.pc.signalingState !== 'stable';
    },
    busy: () => economyOptions?.busy() ?? true,
    broadcast: (text) => channels.broadcast(text),
    apply: (mode) => economyOptions?.setQuiet(mode === 'quiet'),
    timers,
  });
}

/**
 * Runs `fn` every TICK_MS from start() until stop().
 * @param {import('../timers.js').Timers} timers
 * @param {() => void} fn
 */
function createTicker(timers, fn) {
  /** @type {unknown} */
  let timer = null;
  const stop = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  };
  const tick = () => {
    timer = timers.setTimeout(tick, TICK_MS);
    fn();
  };
  return {
    start() {
      stop();
      tick();
    },
    stop,
  };
}

/**
 * Ends a connection the book no longer holds: its negotiation, route, channel and, after
 * `lingerMs`, the connection itself.
 * @param {import('./remote-peer.js').RemotePeer} peer
 * @param {import('./data-channel.js').Channels} channels
 * @param {import('../timers.js').Timers} timers
 * @param {number} lingerMs
 */
function closePeer(peer, channels, timers, lingerMs) {
  peer.negotiator.close();
  peer.route.close();
  channels.detach(peer.id);
  if (lingerMs > 0) timers.setTimeout(() => peer.pc.close(), lingerMs);
  else peer.pc.close();
}

/**
 * When both sides replace the connection at once, each would drop the other's fresh one:
 * the impolite side's new offer stands (its reset is ignored), and the polite side answers it.
 * @param {import('./remote-peer.js').RemotePeer | undefined} current
 * @param {string | null} selfId
 */
function ownOfferStands(current, selfId) {
  if (!current?.replacement || current.pc.remoteDescription || !selfId) return false;
  return !isPolite(selfId, current.id);
}

/**
 * A wake note: the peer's messages come through the server for a moment, so this peer holds
 * its stream (pending) until EXPECT_MS have passed.
 * @param {import('./remote-peer.js').RemotePeer} peer
 * @param {import('../timers.js').Timers} timers
 * @param {() => void} onChange
 */
function holdWhileExpecting(peer, timers, onChange) {
  peer.expecting = true;
  timers.setTimeout(() => {
    peer.expecting = false;
    onChange();
  }, EXPECT_MS);
  onChange();
}

/**
 * @param {import('./remote-peer.js').PeerParts} parts
 * @param {import('./mesh.js').MeshEconomyOptions | undefined} economyOptions
 * @returns {PeerBook}
 */
export function createPeerBook(parts, economyOptions) {
  const { view, channels, timers } = parts;
  /** @type {Map<string, import('./remote-peer.js').RemotePeer>} */
  const peers = new Map();
  /** @type {string | null} */
  let selfId = null;
  const economy = economyOf(peers, channels, economyOptions, timers);
  // A connection closed under the mesh (the browser gives one up without an event) is started
  // afresh through the server; everything else only needs a fresh look.
  const ticker = createTicker(timers, () => {
    for (const [id, peer] of peers) if (peer.pc.signalingState === 'closed') replace(id);
    economy.update();
  });

  /**
   * @param {string} id
   * @param {{offering?: boolean, replacement?: boolean}} [how] offering: this side makes the
   *   first offer; replacement: it replaces a connection this side gave up on.
   */
  function add(id, how = {}) {
    if (!selfId || id === selfId) return null;
    const existing = peers.get(id);
    if (existing) return existing;
    /** @type {import('./remote-peer.js').RemotePeer | null} */
    let current = null;
    const peer = connectPeer(parts, {
      id,
      selfId,
      offering: how.offering === true,
      replacement: how.replacement === true,
      adopt: (made) => {
        current = made;
        peers.set(id, made);
      },
      isCurrent: () => current !== null && peers.get(id) === current,
      onReplace: () => replace(id),
      onLinkChange: () => linkChanged(id),
    });
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
   * @param {string} id
   * @param {number} [lingerMs] How long the connection stays open after it is dropped.
   */
  function drop(id, lingerMs = 0) {
    const peer = peers.get(id);
    if (!peer) return;
    peers.delete(id);
    closePeer(peer, channels, timers, lingerMs);
    economy.update();
  }

  /** @param {string} id */
  function remove(id) {
    const known = peers.has(id);
    drop(id);
    if (known) view.peerRemoved(id);
  }

  /**
   * The peer is told first, so that it drops its end too and answers the new offer with a
   * fresh connection. A quiet peer reads the server only every few seconds, so it is also told
   * over the old connection's channel while that still carries messages (as it does after an
   * answer this side could not apply); the server's copy, which comes before the new offer,
   * then only replaces a connection that is still waiting.
   * @param {string} id
   */
  function replace(id) {
    if (!peers.has(id) || !selfId) return;
    const told = channels.sendTo(id, encodeMeshNote('reset', selfId));
    drop(id, told ? LINGER_MS : 0);
    parts.post({ to: id, type: 'reset' });
    add(id, { offering: true, replacement: true });
  }

  /** @param {string} id */
  function resetBy(id) {
    if (ownOfferStands(peers.get(id), selfId)) return;
    drop(id);
    add(id);
  }

  return {
    peers,
    selfId: () => selfId,
    expect(id) {
      const peer = peers.get(id);
      if (peer) holdWhileExpecting(peer, timers, economy.update);
    },
    setSelf(id) {
      selfId = id;
    },
    add,
    drop,
    remove,
    removeAll() {
      for (const id of [...peers.keys()]) remove(id);
    },
    replace,
    resetBy,
    linkChanged,
    economy,
    startTicking: ticker.start,
    stopTicking: ticker.stop,
  };
}
