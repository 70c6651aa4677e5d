// The entry-process economy of one peer: it keeps the room's join order, decides whether this
// peer is the doorkeeper, has the doorkeeper pass joins and leaves on over the data channels,
// and turns all of it into loud (held stream) or quiet (hold=0 polls). The call feeds it what
// happens (the join answer, server events, channel notes, connection changes) and does what it
// is told through the injected callbacks; it never touches a connection, a channel or HTTP.
'use strict';

import { createJoinOrder, encodeMeshNote, isDoorkeeper, parseMeshNote } from './doorkeeper.js';
import { createQuietness } from './quiet.js';

/**
 * @typedef {object} EconomyOptions
 * @property {() => boolean} capable Data channels exist, and the host streams held responses.
 * @property {() => string[]} peers The remote peers this peer has a connection for.
 * @property {(peer: string) => boolean} linked The connection is up and its channel open.
 * @property {(peer: string) => boolean} pending Something of that connection is under way
 *   (its route waits for an acknowledgement or a gap, or a negotiation is not stable).
 * @property {() => boolean} busy This peer's own requests are under way (joining, POSTs).
 * @property {(text: string) => void} broadcast Sends a note over every open channel.
 * @property {(mode: import('./quiet.js').Loudness) => void} apply
 * @property {number} [settleMs]
 * @property {import('../timers.js').Timers} [timers]
 */

/**
 * @typedef {object} Economy
 * @property {(peersOldestFirst: string[], self: string) => void} joined After each join answer.
 * @property {(message: {from: string, type: string}) => void} serverEvent A join or leave
 *   event from the server (other types are ignored).
 * @property {(text: string, from: string) => import('./doorkeeper.js').MeshNote | null} note
 *   Offers a message from the channel to `from`; returns the note when it was one, for the call to act on (a join note:
 *   expect that peer's offer; leave and bye: drop that peer; reset: replace the connection;
 *   wake: hold the stream while that peer's messages come through the server).
 * @property {(peer: string) => void} seen A peer this peer learnt of some other way (its
 *   offer came first): it joins the order as the newest.
 * @property {() => void} leaving Tells everyone over the channels that this peer leaves now.
 * @property {() => void} update Call on every connection, channel or route change.
 * @property {() => boolean} doorkeeper
 * @property {() => import('./quiet.js').Loudness} mode
 * @property {() => string[]} order
 * @property {() => void} close
 */

/**
 * @param {EconomyOptions} options
 * @returns {Economy}
 */
export function createEconomy(options) {
  const order = createJoinOrder();
  /** @type {string | null} */
  let self = null;

  function doorkeeper() {
    return self === null || isDoorkeeper(order.list(), self, options.linked);
  }

  const quietness = createQuietness({
    read: () => ({
      capable: self !== null && options.capable(),
      doorkeeper: doorkeeper(),
      busy: options.busy(),
      peers: options.peers().map((peer) => ({ linked: options.linked(peer), pending: options.pending(peer) })),
    }),
    apply: options.apply,
    settleMs: options.settleMs,
    timers: options.timers,
  });

  return {
    joined(peersOldestFirst, id) {
      self = id;
      order.reset(peersOldestFirst, id);
      quietness.update();
    },
    serverEvent(message) {
      if (message.type !== 'join' && message.type !== 'leave') return;
      if (message.type === 'join') order.joined(message.from);
      else order.left(message.from);
      // Only the doorkeeper is sure to hear this at once; the others may be between polls.
      if (doorkeeper()) options.broadcast(encodeMeshNote(message.type, message.from));
      quietness.update();
    },
    note(text, from) {
      const note = parseMeshNote(text);
      if (!note || note.peer === self) return null;
      // Only a peer itself says it is leaving or starting its connection afresh; a leave passed
      // on about a peer this one is still linked to is stale or false, and the link itself will
      // tell when it goes.
      const aboutItself = note.note === 'bye' || note.note === 'reset' || note.note === 'wake';
      if (aboutItself && note.peer !== from) return null;
      if (note.note === 'leave' && options.linked(note.peer)) return null;
      // A reset or a wake concerns a connection, not who is in the room.
      if (note.note === 'reset' || note.note === 'wake') return note;
      if (note.note === 'join') order.joined(note.peer);
      else order.left(note.peer);
      quietness.update();
      return note;
    },
    seen(peer) {
      if (peer !== self) order.joined(peer);
    },
    leaving() {
      if (self !== null) options.broadcast(encodeMeshNote('bye', self));
    },
    update: () => quietness.update(),
    doorkeeper,
    mode: () => quietness.mode(),
    order: () => order.list(),
    close: () => quietness.close(),
  };
}
