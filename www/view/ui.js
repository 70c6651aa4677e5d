// The page: it puts the view parts together — the tiles (tiles.js), the controls
// (controls.js), the chat panel (chat-panel.js) with its file part (file-panel.js), the
// device dialog (devices-dialog.js), the security panel (security-panel.js), the status
// banner (status-banner.js), the notices (notices.js), the name card and the shortcuts
// (shortcut-keys.js) — into the view the call reports to, and binds their clicks to the call.
// It keeps the names peers go by; remembered.js keeps the own one and the chosen video
// upload budget in localStorage. It sets the room's
// name and link, and the body's data attributes that end-to-end tests read (see app.js). It
// reads the DOM only inside createUi, never at import time.
'use strict';

import { displayName } from '../ux/display-name.js';
import { createFilePanel } from './file-panel.js';
import { SELF } from '../ux/monitor.js';
import { bindName, bindUplink, openStorage } from './remembered.js';
import { createChatPanel } from './chat-panel.js';
import { createControls } from './controls.js';
import { createDevicesDialog } from './devices-dialog.js';
import { createNotices } from './notices.js';
import { bindShortcuts } from './shortcut-keys.js';
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

  /** The names peers go by, as they told them ('' or missing: the neutral label). */
  const names = /** @type {Map<string, string>} */ (new Map());
  /** @param {string} peerId */
  const labelOf = (peerId) => displayName(names.get(peerId) ?? '', peerId);
  const tiles = createTiles(page);
  const banner = createStatusBanner(page);
  const chat = createChatPanel(page, tiles.layout, labelOf);
  const controls = createControls(page, options.roomLink);
  const devices = createDevicesDialog(page);
  const notices = createNotices(page, labelOf);
  /** @type {Call | null} */
  let boundCall = null;
  const files = createFilePanel(doc, { onSend: (file, to) => boundCall?.sendFile(file, to) });
  page.$('chat').insertBefore(files.root, page.$('chat-form'));
  /** @type {Set<string>} */
  const present = new Set();
  const refreshPeers = () => files.setPeers([...present].map((id) => ({ id, label: labelOf(id) })));
  const storage = openStorage(win);
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
    peerAdded(peerId) {
      tiles.peerAdded(peerId);
      present.add(peerId);
      refreshPeers();
    },
    peerRemoved(peerId) {
      tiles.peerRemoved(peerId);
      security.peerRemoved(peerId);
      present.delete(peerId);
      names.delete(peerId);
      notices.peerState(peerId, null);
      refreshPeers();
    },
    peerConnectionState(peerId, state) {
      tiles.peerConnectionState(peerId, state);
      notices.peerState(peerId, state);
    },
    peerStream: (peerId, stream) => tiles.peerStream(peerId, stream),
    peerMedia: (peerId, flags) => tiles.peerMedia(peerId, flags),
    chat: (message) => chat.add(message),
    chatChannels: (open) => chat.channels(open),
    peerName(peerId, name) {
      if ((names.get(peerId) ?? '') === name) return;
      names.set(peerId, name);
      tiles.name(peerId, name);
      notices.renamed();
      refreshPeers();
    },
    speakers: (state) => tiles.speakers(state),
    mutedHint: (shown) => notices.mutedHint(shown),
    peerQuality: (peerId, line) => tiles.quality(peerId, line),
    fileTransfer: (peerId, transfer) => files.update(peerId, labelOf(peerId), transfer),
    sealing: (state) => security.sealing(state),
    tampered: () => banner.tampered(),
    peerSafetyCode(peerId, code) {
      tiles.peerSafetyCode(peerId, code);
      security.peerSafetyCode(peerId, code);
    },
  };

  /** @param {Call} call */
  function bind(call) {
    controls.bind(call, () => {
      chat.clear();
      files.clear();
    });
    banner.bind(call);
    chat.bind(call);
    devices.bind(call);
    notices.bind(call);
    boundCall = call;
    bindName(page, storage, call, (name) => tiles.name(SELF, name));
    bindUplink(page, storage, call);
    bindShortcuts(page, call);
    // Browsers hold audio analysis until the person interacts with the page.
    for (const type of ['pointerdown', 'keydown']) doc.addEventListener(type, () => call.resumeAudio(), { capture: true });
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
