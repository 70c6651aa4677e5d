// The mesh's book of remote peers: one current connection per peer id (remote-peer.js makes
// it), adding, dropping and replacing connections, the economy (../mesh/economy.js) that reads
// the connections to decide whether this peer holds an event stream, and the tick that looks
// at what raises no event. It does not decide when a peer is added or removed: the mesh
// (mesh.js) does, from the server's messages and the channels' notes.
'use strict';

import { createEconomy } from '../mesh/economy.js';
import { connectPeer, isUp } from './remote-peer.js';

/** How often the mesh looks at what has no event of its own (a transport's queue, a closed connection). */
const TICK_MS = 1000;

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
      return Boolean(peer) && channels.state(id) === 'open' && isUp(peer.pc);
    },
    pending: (id) => {
      const peer = peers.get(id);
      return !peer || peer.route.pending() || peer.pc.signalingState !== 'stable';
    },
    busy: () => economyOptions?.busy() ?? true,
    broadcast: (text) => channels.broadcast(text),
    apply: (mode) => economyOptions?.setQuiet(mode === 'quiet'),
    timers,
  });
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
  /** @type {unknown} */
  let tickTimer = null;

  const economy = economyOf(peers, channels, economyOptions, timers);

  // A connection closed under the mesh (the browser gives one up without an event) is started
  // afresh through the server; everything else only needs a fresh look.
  function tick() {
    tickTimer = timers.setTimeout(tick, TICK_MS);
    for (const [id, peer] of peers) if (peer.pc.signalingState === 'closed') replace(id);
    economy.update();
  }

  function stopTicking() {
    if (tickTimer !== null) timers.clearTimeout(tickTimer);
    tickTimer = null;
  }

  /**
   * @param {string} id
   * @param {{offering?: boolean}} [how] offering: this side makes the first offer.
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

  /** @param {string} id */
  function drop(id) {
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
  function remove(id) {
    const known = peers.has(id);
    drop(id);
    if (known) view.peerRemoved(id);
  }

  /**
   * The peer is told first, so that it drops its end too and answers the new offer with a
   * fresh connection.
   * @param {string} id
   */
  function replace(id) {
    if (!peers.has(id)) return;
    drop(id);
    parts.post({ to: id, type: 'reset' });
    add(id, { offering: true });
  }

  return {
    peers,
    selfId: () => selfId,
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
    linkChanged,
    economy,
    startTicking() {
      stopTicking();
      tick();
    },
    stopTicking,
  };
}
