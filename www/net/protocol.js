// The client's reading of PROTOCOL.md, as pure functions: how API URLs are built, what each
// HTTP status asks the client to do, how event ids are deduplicated, and how a server message
// is checked before anything else looks at it. No I/O happens here.
'use strict';

/** Room names, peer ids and message types share this alphabet. */
const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

/**
 * @param {unknown} room
 * @returns {room is string}
 */
export function isValidRoom(room) {
  return typeof room === 'string' && room.length >= 1 && room.length <= 64 && NAME_PATTERN.test(room);
}

/**
 * Builds an API URL on the page's own path. Parameters whose value is undefined are left out,
 * because the server rejects a parameter a mode does not take.
 * @param {string} path The executable's path, e.g. location.pathname.
 * @param {Record<string, string | number | undefined>} params
 * @returns {string}
 */
export function apiUrl(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) query.set(name, String(value));
  }
  return `${path}?${query}`;
}

/**
 * What a response status asks the caller to do.
 * - ok: done.
 * - rejoin: this peer is unknown or expired (or its token is): join again with a new id.
 * - full: the room has no room for another peer.
 * - gone: the recipient of a message has left.
 * - retry: a network error (status null) or a transient refusal; wait and try the same again.
 * - drop: the request itself is wrong; repeating it cannot help.
 * @typedef {'ok' | 'rejoin' | 'full' | 'gone' | 'retry' | 'drop'} Action
 * @param {number | null} status
 * @returns {Action}
 */
export function actionForStatus(status) {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'ok';
  if (status === 403 || status === 404) return 'rejoin';
  if (status === 409) return 'full';
  if (status === 410) return 'gone';
  // 429 and the 5xx family (503 room locked, 507 disk full, 508 a host's process limit) pass.
  if (status === 429 || status >= 500) return 'retry';
  return 'drop';
}

/**
 * Remembers the last processed event id and rejects anything at or below it. The server's ids
 * are strictly increasing per peer, so this catches an event delivered twice (for example by a
 * probe and a reconnect, or a response that a buffering host replays).
 * @returns {{accept: (id: string | number | null | undefined) => boolean, last: () => number, reset: () => void}}
 */
export function createIdFilter() {
  let last = 0;
  return {
    accept(id) {
      const value = typeof id === 'number' ? id : Number.parseInt(String(id ?? ''), 10);
      // An event without a usable id cannot be deduplicated; the server never sends one.
      if (!Number.isSafeInteger(value)) return false;
      if (value <= last) return false;
      last = value;
      return true;
    },
    last: () => last,
    reset() {
      last = 0;
    },
  };
}

/**
 * @typedef {object} ServerMessage
 * @property {string} from
 * @property {string} type
 * @property {unknown} [data]
 */

/**
 * Parses the data of an SSE message event. Returns null for anything that is not a message of
 * the documented shape, so later code never handles half-formed input.
 * @param {string} text
 * @returns {ServerMessage | null}
 */
export function parseServerMessage(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (typeof value.from !== 'string' || !NAME_PATTERN.test(value.from)) return null;
  if (typeof value.type !== 'string' || !NAME_PATTERN.test(value.type)) return null;
  return { from: value.from, type: value.type, data: value.data };
}

/**
 * @typedef {object} JoinInfo
 * @property {string} peer
 * @property {string} token
 * @property {string[]} peers
 * @property {RTCIceServer[]} iceServers
 * @property {number | null} iceServersExpireAt Unix seconds when TURN credentials expire.
 * @property {RTCIceTransportPolicy} iceTransportPolicy
 * @property {number} retryMs
 * @property {number} holdSeconds
 * @property {number} peerTimeoutSeconds
 * @property {number} maxPeers
 * @property {boolean} sealed Whether the room is sealed (PROTOCOL.md, "Sealed rooms").
 */

/**
 * When to fetch fresh ICE servers: a fifth of their remaining lifetime before they expire,
 * at least 30 s from now (so a clock skewed against the server cannot cause a request storm).
 * Returns null when they do not expire.
 * @param {number | null} expireAtSeconds
 * @param {number} nowMs
 * @returns {number | null} Milliseconds from now.
 */
export function iceRefreshDelay(expireAtSeconds, nowMs) {
  if (expireAtSeconds === null) return null;
  const remainingMs = expireAtSeconds * 1000 - nowMs;
  return Math.max(30000, Math.round(remainingMs * 0.8));
}

/**
 * Checks a join answer. Returns null when it lacks what the client cannot do without.
 * @param {unknown} value
 * @returns {JoinInfo | null}
 */
export function parseJoinInfo(value) {
  if (typeof value !== 'object' || value === null) return null;
  const v = /** @type {Record<string, any>} */ (value);
  if (typeof v.peer !== 'string' || !NAME_PATTERN.test(v.peer)) return null;
  if (typeof v.token !== 'string' || v.token.length === 0) return null;
  const peers = Array.isArray(v.peers)
    ? v.peers.filter((p) => typeof p === 'string' && NAME_PATTERN.test(p) && p !== v.peer)
    : [];
  return {
    peer: v.peer,
    token: v.token,
    peers,
    iceServers: Array.isArray(v.iceServers) ? v.iceServers : [],
    iceServersExpireAt: Number.isFinite(v.iceServersExpireAt) ? v.iceServersExpireAt : null,
    iceTransportPolicy: v.iceTransportPolicy === 'relay' ? 'relay' : 'all',
    retryMs: Number.isFinite(v.retryMs) ? v.retryMs : 1000,
    holdSeconds: Number.isFinite(v.holdSeconds) ? v.holdSeconds : 20,
    peerTimeoutSeconds: Number.isFinite(v.peerTimeoutSeconds) ? v.peerTimeoutSeconds : 40,
    maxPeers: Number.isFinite(v.maxPeers) ? v.maxPeers : 6,
    sealed: v.sealed === true,
  };
}
