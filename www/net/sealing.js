// The sealing of one sealed session's traffic: every outgoing message is sealed (seal.js) and
// every incoming one opened before anyone else sees it, both strictly in order (WebCrypto
// answers asynchronously, and negotiation needs its messages in the order they were sent).
// Only the server's own presence events (join, leave) arrive unsealed; any other message
// that is unsealed, does not open, or repeats a sequence number was made or changed by the
// host: it is dropped and reported.
'use strict';

import { SEALED_TYPE, createReplayGuard, openMessage, sealMessage } from './seal.js';

/** Events the server itself sends; they cannot be sealed. */
const SERVER_TYPES = ['join', 'leave'];

/**
 * @typedef {object} SealingOptions
 * @property {import('./seal.js').Crypto} crypto
 * @property {CryptoKey} key
 * @property {string} room
 * @property {(reason: string) => void} onTampered
 */

/**
 * @param {SealingOptions} options
 */
export function createSealing(options) {
  const { crypto, key, room } = options;
  // Grows for the page's life, so a recipient never sees a number twice from one sender id.
  let seq = 0;
  const guard = createReplayGuard();
  /** @type {Promise<void>} */
  let outgoing = Promise.resolve();
  /** @type {Promise<void>} */
  let incoming = Promise.resolve();

  /**
   * @param {string} self
   * @param {import('./protocol.js').ServerMessage} message
   * @returns {Promise<import('./protocol.js').ServerMessage | null>}
   */
  async function open(self, message) {
    if (message.type !== SEALED_TYPE) {
      if (SERVER_TYPES.includes(message.type)) return message;
      options.onTampered(`an unsealed ${message.type} message`);
      return null;
    }
    const envelope = { room, from: message.from, to: self };
    const opened = (await openMessage(crypto.subtle, key, envelope, message.data))
      ?? (await openMessage(crypto.subtle, key, { ...envelope, to: '*' }, message.data));
    if (!opened) {
      options.onTampered('a message that does not open');
      return null;
    }
    if (!guard.accept(message.from, opened.seq)) {
      options.onTampered('a replayed message');
      return null;
    }
    return { from: message.from, type: opened.type, data: opened.data };
  }

  return {
    /**
     * Seals a message from `self` and hands the post to `deliver`, in call order.
     * @param {string} self
     * @param {{to?: string | null, type: string, data?: unknown}} message
     * @param {(post: {to: string | null, type: string, data: unknown}) => void} deliver
     */
    seal(self, message, deliver) {
      seq += 1;
      const mySeq = seq;
      const to = message.to ?? null;
      outgoing = outgoing.then(async () => {
        const data = await sealMessage(crypto, key, { room, from: self, to: to ?? '*' }, message, mySeq);
        deliver({ to, type: SEALED_TYPE, data });
      }).catch((error) => console.warn('webrtc-cgi: sealing failed:', error));
    },

    /**
     * Opens a message for `self` and hands it to `deliver` when it is genuine, in arrival
     * order.
     * @param {string} self
     * @param {import('./protocol.js').ServerMessage} message
     * @param {(message: import('./protocol.js').ServerMessage) => void} deliver
     */
    open(self, message, deliver) {
      incoming = incoming.then(async () => {
        const opened = await open(self, message);
        if (opened) deliver(opened);
      }).catch((error) => console.warn('webrtc-cgi: opening failed:', error));
    },

    /** A new peer id: the senders' numbers start afresh for it. */
    reset() {
      guard.reset();
    },

    /** Resolves once everything sealed and opened so far has been handed on (or dropped). */
    idle: () => Promise.all([outgoing, incoming]).then(() => undefined),
  };
}

/**
 * The transport's side of sealing: whether the current session is sealed, and the sealed
 * way out and in for its messages, dropped when they finish after the session ended.
 * @param {import('./link.js').Link} link
 * @param {Omit<SealingOptions, 'onTampered'> | null} seal The room's key, if the page has one.
 * @param {(reason: string) => void} onTampered
 */
export function createSealedSession(link, seal, onTampered) {
  /** @type {ReturnType<typeof createSealing> | null} */
  let sealing = null;
  /** Whether the session of `generation` is still the current one. */
  const current = (/** @type {number} */ generation) => generation === link.generation() && !link.stopped();

  return {
    /** @param {boolean} roomSealed What the join answer said of the room. */
    use(roomSealed) {
      if (!seal || !roomSealed) {
        sealing = null;
        return;
      }
      sealing ??= createSealing({ ...seal, onTampered });
      sealing.reset();
    },
    active: () => sealing !== null,
    /**
     * @param {string} self
     * @param {{to?: string | null, type: string, data?: unknown}} message
     * @param {(post: import('./post-queue.js').Post) => void} push
     */
    send(self, message, push) {
      const generation = link.generation();
      sealing?.seal(self, message, (sealed) => {
        if (current(generation)) push(sealed);
      });
    },
    /**
     * @param {string} self
     * @param {import('./protocol.js').ServerMessage} message
     * @param {(message: import('./protocol.js').ServerMessage) => void} deliver
     */
    receive(self, message, deliver) {
      const generation = link.generation();
      sealing?.open(self, message, (opened) => {
        if (current(generation)) deliver(opened);
      });
    },
  };
}
