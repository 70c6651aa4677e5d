// The chat data channel, one per remote peer: it is negotiated out of band (both sides create
// it with the same id, so no extra offer is needed), carries chat lines (chat.js) and the
// state notes with the sender's name and media flags (../ux/peer-state.js), and reports how
// many channels are open so the page can enable sending. The mesh's own messages on it
// (signaling, notes about the room) are offered to `onMessage` first.
// It knows nothing of connections beyond the one it is attached to.
'use strict';

import { decodePeerState, encodePeerState } from '../ux/peer-state.js';
import { cleanChatText, encodeChat, parsePeerMessage } from './chat.js';

/** Both sides create the chat channel with this id. */
const CHAT_CHANNEL_ID = 0;

/**
 * @typedef {object} Channels
 * @property {(peerId: string, pc: RTCPeerConnection) => RTCDataChannel} attach Opens the chat
 *   channel on a new connection to `peerId` (replacing an earlier one's).
 * @property {(peerId: string) => void} detach Closes the channel of a connection being dropped.
 * @property {(flags: import('./local-media.js').MediaFlags) => void} announce Tells every open
 *   channel's peer the local media state and name.
 * @property {(text: string) => boolean} sendChat Sends a chat line; whether any peer got it.
 * @property {(text: string) => number} broadcast Sends `text` on every open channel; how many.
 * @property {(peerId: string, text: string) => boolean} sendTo Sends `text` on the channel to
 *   `peerId` if it is open; whether it went.
 * @property {(peerId: string) => RTCDataChannelState | null} state
 */

/**
 * @param {object} options
 * @param {import('./call.js').CallView} options.view
 * @param {() => import('./local-media.js').MediaFlags} options.localFlags What a channel that
 *   opens tells its peer first.
 * @param {() => string} [options.localName] The name this side goes by ('' for none).
 * @param {(peerId: string, text: string) => boolean} [options.onMessage] Takes the mesh's own
 *   messages (true when it took one); the rest is chat and state notes.
 * @param {(peerId: string) => void} [options.onChange] A channel opened or closed.
 * @returns {Channels}
 */
export function createChannels(options) {
  const { view } = options;
  /** @type {Map<string, RTCDataChannel>} */
  const channels = new Map();

  function reportOpen() {
    let open = 0;
    for (const channel of channels.values()) if (channel.readyState === 'open') open += 1;
    view.chatChannels(open);
  }

  /** @param {string} text */
  function broadcast(text) {
    let sent = 0;
    for (const channel of channels.values()) {
      if (channel.readyState !== 'open') continue;
      try {
        channel.send(text);
        sent += 1;
      } catch {
        // A channel closing at this very moment; that peer is on its way out.
      }
    }
    return sent;
  }

  return {
    attach(peerId, pc) {
      const channel = pc.createDataChannel('chat', { negotiated: true, id: CHAT_CHANNEL_ID });
      channels.set(peerId, channel);
      channel.addEventListener('open', () => {
        channel.send(encodePeerState({ ...options.localFlags(), name: options.localName?.() ?? '' }));
        reportOpen();
        options.onChange?.(peerId);
      });
      channel.addEventListener('close', () => {
        reportOpen();
        if (channels.get(peerId) === channel) options.onChange?.(peerId);
      });
      channel.addEventListener('message', (event) => {
        if (channels.get(peerId) !== channel) return;
        if (options.onMessage?.(peerId, event.data)) return;
        const state = decodePeerState(event.data);
        if (state) {
          view.peerMedia(peerId, { mic: state.mic, camera: state.camera, sharing: state.sharing });
          view.peerName(peerId, state.name);
          return;
        }
        const note = parsePeerMessage(event.data);
        if (note?.kind === 'chat') view.chat({ from: peerId, text: note.text, at: Date.now() });
      });
      return channel;
    },
    detach(peerId) {
      const channel = channels.get(peerId);
      if (!channel) return;
      channels.delete(peerId);
      channel.close();
      reportOpen();
    },
    announce(flags) {
      broadcast(encodePeerState({ ...flags, name: options.localName?.() ?? '' }));
    },
    sendChat(text) {
      const clean = cleanChatText(text);
      if (!clean) return false;
      const sent = broadcast(encodeChat(clean));
      if (sent > 0) view.chat({ from: null, text: clean, at: Date.now() });
      return sent > 0;
    },
    state: (peerId) => channels.get(peerId)?.readyState ?? null,
    broadcast,
    sendTo(peerId, text) {
      const channel = channels.get(peerId);
      if (channel?.readyState !== 'open') return false;
      try {
        channel.send(text);
        return true;
      } catch {
        return false;
      }
    },
  };
}
