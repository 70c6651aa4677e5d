// Sealed signaling: what keeps the host from reading or changing the messages it relays in a
// sealed room. The room's secret (256 random bits, made in the browser, carried only in the
// link's #fragment, which browsers never send) yields an AES-GCM key through HKDF; every
// message is sealed under a fresh nonce, with its type and a per-sender sequence number
// inside the ciphertext and the room, sender and recipient as additional data. So the host
// can neither read, edit, re-address, re-attribute nor replay a message: each of those makes
// open() answer null. WebCrypto is passed in; nothing here is hand-made cryptography.
'use strict';

/** The message type of every post in a sealed room (PROTOCOL.md, "Sealed rooms"). */
export const SEALED_TYPE = 'sealed';

/** A room secret is this many random bytes. */
const SECRET_BYTES = 32;
const NONCE_BYTES = 12;
/** The version of this format, bound into the key and into every message's additional data. */
const LABEL = 'webrtc-cgi sealed signaling v1';

/**
 * @typedef {object} Crypto
 * @property {SubtleCrypto} subtle
 * @property {<T extends ArrayBufferView>(array: T) => T} getRandomValues
 */

/**
 * @typedef {object} Envelope Who a message is from and for; bound as additional data.
 * @property {string} room
 * @property {string} from The sender's peer id.
 * @property {string} to The recipient's peer id, or '*' for every peer.
 */

/**
 * @typedef {{type: string, data?: unknown}} Plain A signaling message before sealing.
 */

/** @param {Uint8Array} bytes */
function toBase64(bytes) {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

/**
 * @param {string} text
 * @returns {Uint8Array | null}
 */
function fromBase64(text) {
  try {
    const binary = atob(text);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** @param {string} text */
const utf8 = (text) => new TextEncoder().encode(text);

/**
 * A fresh room secret, as the link's fragment carries it (base64url, 43 characters).
 * @param {Crypto} crypto
 * @returns {string}
 */
export function newSecret(crypto) {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Reads a room secret from a link's fragment (`#k=SECRET`). Null when there is none or it is
 * not 32 bytes of base64url.
 * @param {string} hash location.hash, with or without its '#'.
 * @returns {Uint8Array | null}
 */
export function secretFromFragment(hash) {
  const value = new URLSearchParams(hash.replace(/^#/, '')).get('k');
  if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) return null;
  const bytes = fromBase64(value.replace(/-/g, '+').replace(/_/g, '/') + '=');
  return bytes && bytes.length === SECRET_BYTES ? bytes : null;
}

/**
 * The fragment that carries `secret`.
 * @param {string} secret As newSecret returns it.
 */
export function fragmentOf(secret) {
  return `#k=${secret}`;
}

/**
 * Derives the room's message key: HKDF-SHA256 over the secret, with the room name in the
 * info, so one secret reused for two rooms still gives two keys.
 * @param {SubtleCrypto} subtle
 * @param {Uint8Array} secret
 * @param {string} room
 * @returns {Promise<CryptoKey>}
 */
export async function deriveRoomKey(subtle, secret, room) {
  const material = await subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8(LABEL), info: utf8(`room ${room}`) },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** @param {Envelope} envelope */
function additionalData(envelope) {
  return utf8(JSON.stringify([LABEL, envelope.room, envelope.from, envelope.to]));
}

/**
 * Seals one message. The result is the `data` of a post of type SEALED_TYPE.
 * @param {Crypto} crypto
 * @param {CryptoKey} key
 * @param {Envelope} envelope
 * @param {Plain} message
 * @param {number} seq The sender's sequence number, larger than every earlier one.
 * @returns {Promise<{sealed: string}>}
 */
export async function sealMessage(crypto, key, envelope, message, seq) {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const plain = utf8(JSON.stringify({ type: message.type, data: message.data, seq }));
  const cipher = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: additionalData(envelope) },
    key,
    plain,
  );
  const out = new Uint8Array(NONCE_BYTES + cipher.byteLength);
  out.set(nonce, 0);
  out.set(new Uint8Array(cipher), NONCE_BYTES);
  return { sealed: toBase64(out) };
}

/**
 * Opens one message, or answers null when it was altered, is not for this envelope (another
 * room, sender or recipient), or is not a sealed message at all.
 * @param {SubtleCrypto} subtle
 * @param {CryptoKey} key
 * @param {Envelope} envelope
 * @param {unknown} data The `data` of a received message of type SEALED_TYPE.
 * @returns {Promise<(Plain & {seq: number}) | null>}
 */
export async function openMessage(subtle, key, envelope, data) {
  const text = /** @type {{sealed?: unknown}} */ (data ?? {}).sealed;
  if (typeof text !== 'string') return null;
  const bytes = fromBase64(text);
  if (!bytes || bytes.length <= NONCE_BYTES) return null;
  let plain;
  try {
    plain = await subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(0, NONCE_BYTES), additionalData: additionalData(envelope) },
      key,
      bytes.subarray(NONCE_BYTES),
    );
  } catch {
    return null;
  }
  let value;
  try {
    value = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    return null;
  }
  if (typeof value?.type !== 'string' || !Number.isSafeInteger(value.seq)) return null;
  return { type: value.type, data: value.data, seq: value.seq };
}

/**
 * Remembers the highest sequence number opened from each sender and refuses anything at or
 * below it: a replayed message. A sender's numbers only grow, and the server keeps the order
 * of one sender's messages to one recipient.
 */
export function createReplayGuard() {
  /** @type {Map<string, number>} */
  const last = new Map();
  return {
    /**
     * @param {string} from
     * @param {number} seq
     */
    accept(from, seq) {
      if (seq <= (last.get(from) ?? 0)) return false;
      last.set(from, seq);
      return true;
    },
    reset() {
      last.clear();
    },
  };
}
