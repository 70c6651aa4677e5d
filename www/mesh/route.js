// The signaling route of one connection: the {send, onmessage} pair that perfect negotiation is
// given. While the connection's data channel is open and the connection is up, messages travel
// over that channel and cost the host nothing; otherwise they go through the server as before,
// unchanged. A message on the channel carries this route's id and a sequence number and stays
// queued until the other end acknowledges it; when the channel goes away, or no acknowledgement
// comes in time, the unacknowledged messages are sent again through the server (as `signal`
// messages with the same number), in order, before anything newer. The receiving end hands the
// numbered messages on in order, whichever way each came, and drops duplicates
// (route-order.js); what waits for an acknowledgement is route-resend.js's. It owns only
// that bookkeeping: it never opens or closes a channel or a connection, and never talks HTTP
// itself (the server path is injected).
'use strict';

import { realTimers } from '../timers.js';
import { createReceiveOrder } from './route-order.js';
import { createResendQueue } from './route-resend.js';

/** Message types share the protocol's name alphabet (PROTOCOL.md, "Messages"). */
const TYPE_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Route ids are random, 1 to 32 characters of the same alphabet. */
const ROUTE_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** The server message type that carries a route's envelope. */
export const SERVER_TYPE = 'signal';

/**
 * A message of the negotiation (or any other message for this one remote peer).
 * @typedef {{type: string, data?: unknown}} RouteMessage
 */

/**
 * What travels, over the channel or inside a server message of type `signal`: the route id
 * `r` (so messages of a replaced connection are told apart), the sequence number `s` and the
 * message itself.
 * @typedef {{r: string, s: number, type: string, data?: unknown}} Envelope
 */

/**
 * The part of an RTCDataChannel the route uses.
 * @typedef {object} ChannelLike
 * @property {string} readyState
 * @property {(text: string) => void} send
 */

/**
 * @typedef {object} RouteOptions
 * @property {(message: {type: string, data?: unknown}) => void} post Sends a message to this
 *   peer through the server (the transport's post, with `to` filled in). The server delivers
 *   in order and the transport retries, so what is posted counts as delivered.
 * @property {() => boolean} linkUp Whether the connection is up (connected). A data channel
 *   can still say "open" while ICE has lost the other side; only both together are used.
 * @property {string} [id] This route's id; random when absent.
 * @property {number} [ackTimeoutMs] How long a message sent over the channel may wait for its
 *   acknowledgement before it is sent again through the server.
 * @property {import('../timers.js').Timers} [timers]
 */

/**
 * @typedef {object} Route
 * @property {(message: RouteMessage) => void} send
 * @property {((message: RouteMessage) => unknown) | null} onmessage Assigned by the negotiator.
 * @property {(channel: ChannelLike | null) => void} attach The connection's data channel.
 * @property {() => void} linkChanged Call when the channel opened or closed or the connection's
 *   state changed: a lost link sends what is unacknowledged through the server at once.
 * @property {(text: string) => boolean} fromChannel Offers a channel message; false when it is
 *   not the route's (a chat line, a state note).
 * @property {(message: {type: string, data?: unknown}) => void} fromServer A message of this
 *   peer's from the server: a `signal` envelope, or a plain negotiation message.
 * @property {() => boolean} pending Whether anything is on its way in either direction: sent
 *   over the channel and unacknowledged, or received out of order and waiting for a gap.
 * @property {() => {viaChannel: number, viaServer: number, resent: number}} counts
 * @property {() => void} close Stops the timer; later calls do nothing.
 */

/** @returns {string} */
function randomRouteId() {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return [...bytes].map((byte) => alphabet[byte & 63]).join('');
}

/**
 * Checks an envelope from the other end. Returns null for anything malformed.
 * @param {unknown} value
 * @returns {Envelope | null}
 */
export function parseEnvelope(value) {
  if (typeof value !== 'object' || value === null) return null;
  const v = /** @type {Record<string, unknown>} */ (value);
  if (typeof v.r !== 'string' || !ROUTE_ID_PATTERN.test(v.r)) return null;
  if (typeof v.s !== 'number' || !Number.isSafeInteger(v.s) || v.s < 1) return null;
  if (typeof v.type !== 'string' || !TYPE_PATTERN.test(v.type)) return null;
  return { r: v.r, s: v.s, type: v.type, data: v.data };
}

/**
 * The channel's wire format for the route: `{"kind": "signal", r, s, type, data}` and
 * `{"kind": "ack", r, s}` (everything up to s arrived). Chat and state notes use other kinds.
 * @param {Envelope} envelope
 * @returns {string}
 */
export function encodeSignal(envelope) {
  return JSON.stringify({ kind: 'signal', ...envelope });
}

/**
 * @param {RouteOptions} options
 * @returns {Route}
 */
export function createRoute(options) {
  const { post, linkUp } = options;
  const id = options.id ?? randomRouteId();
  const ackTimeoutMs = options.ackTimeoutMs ?? 1500;
  const timers = options.timers ?? realTimers;

  let nextSeq = 1;
  /** @type {ChannelLike | null} */
  let channel = null;
  let closed = false;
  const counts = { viaChannel: 0, viaServer: 0, resent: 0 };

  const outbound = createResendQueue({ resend: viaServer, timers, ackTimeoutMs });
  const inbound = createReceiveOrder((envelope) => deliver(envelope));

  function channelUsable() {
    return channel !== null && channel.readyState === 'open' && linkUp();
  }

  /** @param {Envelope} envelope */
  function viaServer(envelope) {
    counts.viaServer += 1;
    counts.resent += 1;
    post({ type: SERVER_TYPE, data: envelope });
  }

  /** @param {string} text */
  function sendOnChannel(text) {
    try {
      channel?.send(text);
      return true;
    } catch {
      // A channel that closes at this moment throws; the server path takes over.
      return false;
    }
  }

  /** @param {Envelope} envelope */
  function deliver(envelope) {
    route.onmessage?.({ type: envelope.type, data: envelope.data });
  }

  /** @type {Route} */
  const route = {
    send(message) {
      if (closed) return;
      if (channelUsable()) {
        const envelope = { r: id, s: nextSeq, type: message.type, data: message.data };
        if (sendOnChannel(encodeSignal(envelope))) {
          nextSeq += 1;
          counts.viaChannel += 1;
          outbound.sent(envelope);
          return;
        }
      }
      // Older messages still waiting for the channel's acknowledgement go first, so the
      // server path delivers everything in order.
      outbound.resendAll();
      counts.viaServer += 1;
      post({ type: message.type, data: message.data });
    },
    onmessage: null,
    attach(next) {
      channel = next;
      route.linkChanged();
    },
    linkChanged() {
      if (closed) return;
      if (!channelUsable()) outbound.resendAll();
    },
    fromChannel(text) {
      if (closed || typeof text !== 'string') return false;
      let value;
      try {
        value = JSON.parse(text);
      } catch {
        return false;
      }
      if (value?.kind === 'ack') {
        if (value.r === id && Number.isSafeInteger(value.s)) outbound.acknowledged(value.s);
        return true;
      }
      if (value?.kind !== 'signal') return false;
      const envelope = parseEnvelope(value);
      if (envelope && inbound.take(envelope) && channel?.readyState === 'open') {
        sendOnChannel(JSON.stringify({ kind: 'ack', r: envelope.r, s: inbound.delivered() }));
      }
      return true;
    },
    fromServer(message) {
      if (closed) return;
      if (message.type !== SERVER_TYPE) {
        deliver({ r: '', s: 0, type: message.type, data: message.data });
        return;
      }
      const envelope = parseEnvelope(message.data);
      if (envelope) inbound.take(envelope);
    },
    pending: () => outbound.pending() || inbound.pending(),
    counts: () => ({ ...counts }),
    close() {
      closed = true;
      outbound.close();
      inbound.clear();
    },
  };
  return route;
}
