// The page: it puts the view parts together — the tiles (tiles.js), the controls
// (controls.js), the chat panel (chat-panel.js), the device dialog (devices-dialog.js), the
// security panel (security-panel.js) and the status banner (status-banner.js) — into the view the call reports to, and binds their
// clicks to the call. It sets the room's name and link, and the body's data attributes that
// end-to-end tests read (see app.js). It reads the DOM only inside createUi, never at import
// time.
'use strict';

import { createChatPanel } from './chat-panel.js';
import { createControls } from './controls.js';
import { createDevicesDialog } from './devices-dialog.js';
import { createSecurityPanel } from './security-panel.js';
import { createStatusBanner } from './status-banner.js';
import { createTiles } from './tiles.js';

/**
 * @typedef {ReturnType<typeof import('../rtc/call.js').createCall>} Call
 */

/**
 * @param {Document} doc
 * @param {{room: string, roomLink: string}} options
 */
export function createUi(doc, options) {
  const win = /** @type {Window} */ (doc.defaultView);
  const body = doc.body;
  /** @type {import('./tiles.js').Page} */
  const page = { doc, win, $: (id) => /** @type {HTMLElement} */ (doc.getElementById(id)) };

  const tiles = createTiles(page);
  const banner = createStatusBanner(page);
  const chat = createChatPanel(page, tiles.layout);
  const controls = createControls(page, options.roomLink);
  const devices = createDevicesDialog(page);
  const security = createSecurityPanel(page);

  page.$('room-name').textContent = options.room;
  doc.title = `${options.room} · Video call`;
  /** @type {HTMLInputElement} */ (page.$('room-link')).value = options.roomLink;

  /** @type {import('../rtc/call.js').CallView} */
  const view = {
    selfId(peerId) {
      body.dataset.peer = peerId ?? '';
      tiles.selfId(peerId);
    },
    localMedia(stream, flags) {
      tiles.localMedia(stream, flags);
      controls.localMedia(flags);
    },
    mediaNotice: (kind, text) => banner.mediaNotice(kind, text),
    callState(state, detail) {
      body.dataset.state = state;
      banner.callState(state, detail);
      tiles.callState(state);
    },
    peerAdded: (peerId) => tiles.peerAdded(peerId),
    peerRemoved(peerId) {
      tiles.peerRemoved(peerId);
      security.peerRemoved(peerId);
    },
    peerConnectionState: (peerId, state) => tiles.peerConnectionState(peerId, state),
    peerStream: (peerId, stream) => tiles.peerStream(peerId, stream),
    peerMedia: (peerId, flags) => tiles.peerMedia(peerId, flags),
    chat: (message) => chat.add(message),
    chatChannels: (open) => chat.channels(open),
    sealing: (state) => security.sealing(state),
    tampered: () => banner.tampered(),
    peerSafetyCode(peerId, code) {
      tiles.peerSafetyCode(peerId, code);
      security.peerSafetyCode(peerId, code);
    },
  };

  /** @param {Call} call */
  function bind(call) {
    controls.bind(call, () => chat.clear());
    banner.bind(call);
    chat.bind(call);
    devices.bind(call);
    view.callState('joining');
  }

  /**
   * A page that cannot hold a call (no WebRTC in this browser, or no valid room): the
   * sentence shows, and no control or chat that could only do nothing.
   * @param {string} detail
   */
  function withoutCall(detail) {
    view.callState('error', detail);
    for (const element of doc.querySelectorAll('footer.controls, #chat')) {
      /** @type {HTMLElement} */ (element).hidden = true;
    }
  }

  return { view, bind, withoutCall };
}
