// The file channel, one per remote peer beside the chat channel: negotiated out of band with
// its own id (no extra offer), binary, and driven by a file link (../ux/files.js) that does the
// chunking, back-pressure and checks. It sends a file to one peer or to everyone with an open
// channel and reports every transfer to the view. It knows nothing of connections beyond the
// one it is attached to, and never opens a received file.
'use strict';

import { createFileLink } from '../ux/files.js';

/** Both sides create the file channel with this id (the chat channel has 0). */
const FILE_CHANNEL_ID = 1;

/**
 * @param {{view: import('./call.js').CallView}} options
 */
export function createFileChannels(options) {
  const { view } = options;
  /** @type {Map<string, {channel: RTCDataChannel, link: ReturnType<typeof createFileLink>}>} */
  const links = new Map();

  return {
    /**
     * @param {string} peerId
     * @param {RTCPeerConnection} pc
     */
    attach(peerId, pc) {
      const channel = pc.createDataChannel('files', { negotiated: true, id: FILE_CHANNEL_ID });
      channel.binaryType = 'arraybuffer';
      const link = createFileLink(channel, { onUpdate: (transfer) => view.fileTransfer(peerId, transfer) });
      const entry = { channel, link };
      links.set(peerId, entry);
      channel.addEventListener('message', (event) => {
        if (links.get(peerId) === entry) link.receive(event.data);
      });
      channel.addEventListener('close', () => link.lost());
    },
    /** @param {string} peerId */
    detach(peerId) {
      const entry = links.get(peerId);
      if (!entry) return;
      links.delete(peerId);
      entry.link.lost();
      entry.channel.close();
    },
    /**
     * Sends a file to `to`, or to everyone with an open channel when `to` is ''.
     * @param {File} file
     * @param {string} to
     * @returns {number} How many peers it is going to.
     */
    send(file, to) {
      let count = 0;
      for (const [peerId, entry] of links) {
        if (to && peerId !== to) continue;
        if (entry.channel.readyState !== 'open') continue;
        entry.link.send(file);
        count += 1;
      }
      return count;
    },
  };
}
