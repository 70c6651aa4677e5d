// Who in a room keeps the held event stream once everyone is connected: the doorkeeper. Every
// peer keeps the room's join order (the join answer lists the peers already there, oldest
// first; join events append; leave events and "I am leaving" notes remove), and a peer is the
// doorkeeper when no older peer is linked to it over an open data channel. The oldest peer
// present is therefore always a doorkeeper, and when it goes, the next one becomes one by the
// same rule, without a message. Joins that happen in between wait in the inboxes (the server
// stores a join for every peer), so a hand-over loses none. It also owns the notes peers send
// each other about the room over the channels. Pure: no timers, no I/O.
'use strict';

/** Peer ids: the protocol's 12 characters of the name alphabet (1 to 32 accepted). */
const PEER_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * A note about the room, sent over the data channels:
 * - join: the doorkeeper heard that `peer` joined (everyone should read its inbox now);
 * - leave: the doorkeeper heard that `peer` left or expired;
 * - bye: the sender is leaving now ("I am leaving"); `peer` is the sender;
 * - reset: the sender gave up on the connection this channel belongs to and offers a fresh
 *   one through the server; `peer` is the sender;
 * - wake: the sender's next messages for this connection come through the server (an ICE
 *   restart of its own is under way): read the inbox now; `peer` is the sender.
 * @typedef {{kind: 'mesh', note: 'join' | 'leave' | 'bye' | 'reset' | 'wake', peer: string}} MeshNote
 */

/**
 * @param {'join' | 'leave' | 'bye' | 'reset' | 'wake'} note
 * @param {string} peer
 * @returns {string}
 */
export function encodeMeshNote(note, peer) {
  return JSON.stringify({ kind: 'mesh', note, peer });
}

/**
 * Reads a channel message. Returns null for anything that is not a well-formed mesh note.
 * @param {unknown} raw
 * @returns {MeshNote | null}
 */
export function parseMeshNote(raw) {
  if (typeof raw !== 'string' || raw.length > 200) return null;
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || value.kind !== 'mesh') return null;
  if (!['join', 'leave', 'bye', 'reset', 'wake'].includes(value.note)) return null;
  if (typeof value.peer !== 'string' || !PEER_PATTERN.test(value.peer)) return null;
  return { kind: 'mesh', note: value.note, peer: value.peer };
}

/**
 * @typedef {object} JoinOrder
 * @property {(peersOldestFirst: string[], self: string) => void} reset After a join: the
 *   peers the join answer listed, then this peer.
 * @property {(peer: string) => void} joined A join event (or a peer seen without one, which
 *   joined while this peer's stream was down): it is the newest.
 * @property {(peer: string) => void} left
 * @property {() => string[]} list Oldest first.
 */

/** @returns {JoinOrder} */
export function createJoinOrder() {
  /** @type {string[]} */
  let order = [];
  return {
    reset(peersOldestFirst, self) {
      order = [...new Set(peersOldestFirst.filter((peer) => peer !== self)), self];
    },
    joined(peer) {
      if (!order.includes(peer)) order.push(peer);
    },
    left(peer) {
      order = order.filter((id) => id !== peer);
    },
    list: () => [...order],
  };
}

/**
 * Whether `self` is a doorkeeper: no peer older than it is linked to it. A peer missing from
 * the order (it should not happen) counts as one, because a stream too many costs an entry
 * process while a stream too few can leave a newcomer waiting.
 * @param {string[]} order Oldest first.
 * @param {string} self
 * @param {(peer: string) => boolean} linked Whether this peer's connection to `peer` is up
 *   with an open data channel.
 * @returns {boolean}
 */
export function isDoorkeeper(order, self, linked) {
  if (!order.includes(self)) return true;
  for (const peer of order) {
    if (peer === self) return true;
    if (linked(peer)) return false;
  }
  return true;
}
