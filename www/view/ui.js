// The page: video tiles, the waiting and "you left" panels, the status banner, the controls,
// the chat panel and the device dialog. It implements the view the call reports to, and turns
// clicks into calls on the call object. Everything that came from a peer is written with
// textContent. It reads the DOM only inside createUi, never at import time.
'use strict';

import { chooseGrid } from './layout.js';
import { canShareScreen, listDevices } from '../rtc/media.js';
import { peerHue, peerInitials, peerLabel } from './names.js';

/** Human words for RTCPeerConnection states, shown under each remote tile. */
const STATE_WORDS = /** @type {Record<string, string>} */ ({
  new: 'Connecting…',
  checking: 'Connecting…',
  connecting: 'Connecting…',
  connected: '',
  completed: '',
  disconnected: 'Connection unstable…',
  failed: 'Reconnecting…',
  closed: 'Left',
});

/**
 * Connection problems outrank media notices in the single status banner, because they change
 * what the user can do right now; a media notice comes back once they are resolved.
 */
const CONNECTION_NOTICES = /** @type {Record<string, {text: string, action?: string}>} */ ({
  reconnecting: { text: 'Connection to the server lost. Reconnecting…' },
  full: { text: 'This room is full. Try again when someone leaves.', action: 'Try again' },
  error: { text: 'The server refused this call.' },
});

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
  /** @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (doc.getElementById(id));

  const tiles = $('tiles');
  const stage = $('stage');
  const waiting = $('waiting');
  const ended = $('ended');
  const status = $('status');
  const statusText = $('status-text');
  const statusAction = /** @type {HTMLButtonElement} */ ($('status-action'));
  const connection = $('connection');
  const chatPanel = $('chat');
  const chatLog = $('chat-log');
  const chatEmpty = $('chat-empty');
  const chatInput = /** @type {HTMLInputElement} */ ($('chat-input'));
  const chatSend = /** @type {HTMLButtonElement} */ ($('chat-send'));
  const chatToggle = $('chat-toggle');
  const chatUnread = $('chat-unread');
  const enableSound = $('enable-sound');
  const devicesDialog = /** @type {HTMLDialogElement} */ ($('devices-dialog'));
  const cameraSelect = /** @type {HTMLSelectElement} */ ($('camera-select'));
  const micSelect = /** @type {HTMLSelectElement} */ ($('mic-select'));

  /** @type {Map<string, HTMLElement>} */
  const remoteTiles = new Map();
  const selfTile = makeTile(null);
  tiles.prepend(selfTile);

  let callState = 'joining';
  /** @type {{kind: string | null, text: string | null, dismissed: boolean}} */
  let mediaNotice = { kind: null, text: null, dismissed: false };
  let connectionDetail = '';
  let unread = 0;
  let chatOpen = win.matchMedia('(min-width: 900px)').matches;
  let openChannels = 0;
  /** @type {Call | null} */
  let call = null;

  $('room-name').textContent = options.room;
  doc.title = `${options.room} · Video call`;
  /** @type {HTMLInputElement} */ ($('room-link')).value = options.roomLink;
  if (!canShareScreen(win.navigator.mediaDevices)) $('share').hidden = true;
  setChatOpen(chatOpen);
  updateChatAvailability();

  // ----- tiles -----

  /**
   * @param {string | null} peerId null for the local tile.
   * @returns {HTMLElement}
   */
  function makeTile(peerId) {
    const tile = doc.createElement('figure');
    tile.className = 'tile';
    tile.dataset.camera = 'off';
    tile.dataset.mic = 'on';
    const video = doc.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    const avatar = doc.createElement('div');
    avatar.className = 'avatar';
    avatar.setAttribute('aria-hidden', 'true');
    const initials = doc.createElement('span');
    avatar.append(initials);
    const caption = doc.createElement('figcaption');
    const name = doc.createElement('span');
    name.className = 'name';
    const muted = doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
    muted.setAttribute('class', 'icon muted-icon');
    muted.setAttribute('aria-hidden', 'true');
    const use = doc.createElementNS('http://www.w3.org/2000/svg', 'use');
    use.setAttribute('href', '#i-mic-off');
    muted.append(use);
    const state = doc.createElement('span');
    state.className = 'state';
    caption.append(muted, name, state);
    tile.append(video, avatar, caption);

    if (peerId === null) {
      tile.dataset.self = 'true';
      tile.dataset.peer = '';
      video.muted = true;
      video.setAttribute('muted', '');
      name.textContent = 'You';
      initials.textContent = 'You';
      avatar.style.setProperty('--hue', '210');
    } else {
      tile.dataset.peer = peerId;
      tile.dataset.state = 'new';
      name.textContent = peerLabel(peerId);
      initials.textContent = peerInitials(peerId);
      avatar.style.setProperty('--hue', String(peerHue(peerId)));
      state.textContent = STATE_WORDS.new;
    }
    return tile;
  }

  /** @param {HTMLElement} tile */
  const videoOf = (tile) => /** @type {HTMLVideoElement} */ (tile.querySelector('video'));

  /**
   * @param {HTMLVideoElement} video
   * @param {MediaStream} stream
   */
  function attach(video, stream) {
    if (video.srcObject !== stream) video.srcObject = stream;
    const playing = video.play();
    // Browsers refuse to start sound without a gesture for a page that holds no microphone
    // (a user who denied it). The video plays muted then, and one click brings the sound.
    playing?.catch((error) => {
      if (error?.name !== 'NotAllowedError' || video.muted) return;
      video.muted = true;
      video.dataset.wantsSound = 'true';
      video.play().catch(() => {});
      enableSound.hidden = false;
    });
  }

  // The stage's size as the ResizeObserver last reported it. Asking the DOM instead
  // (getBoundingClientRect) would make the browser lay the page out again on the spot, at
  // every tile added or state changed: measured, that was the page's costliest script while a
  // call was starting.
  let stageWidth = win.innerWidth;
  let stageHeight = win.innerHeight;

  function layout() {
    const remoteCount = remoteTiles.size;
    body.dataset.peers = String(remoteCount);
    const inCall = callState !== 'left' && callState !== 'full';
    waiting.hidden = !(inCall && remoteCount === 0 && callState !== 'joining' && callState !== 'error');
    ended.hidden = callState !== 'left';
    selfTile.hidden = callState === 'left';
    // With one other person the self view shrinks into a corner, as in a phone call.
    const pip = remoteCount === 1 && inCall;
    selfTile.classList.toggle('pip', pip);
    // The waiting card takes a grid cell of its own, so it sits beside the self view.
    const items = remoteCount + (pip || selfTile.hidden ? 0 : 1) + (waiting.hidden ? 0 : 1);
    const rect = { width: stageWidth, height: stageHeight };
    const gap = rect.width < 500 ? 6 : 10;
    // A lone tile may take the stage's own shape (a phone held upright); several tiles on a
    // wide stage stay landscape, so that a face is not cropped into a narrow strip.
    const minAspect = items <= 1 ? 9 / 16 : rect.width > rect.height ? 4 / 3 : 3 / 4;
    const grid = chooseGrid(Math.max(1, items), rect.width, rect.height, { gap, minAspect });
    tiles.style.setProperty('--columns', String(grid.columns));
    tiles.style.setProperty('--tile-width', `${Math.floor(grid.tileWidth)}px`);
    tiles.style.setProperty('--tile-height', `${Math.floor(grid.tileHeight)}px`);
    const gridWidth = grid.columns * Math.floor(grid.tileWidth) + (grid.columns - 1) * gap;
    tiles.style.setProperty('--grid-width', `${gridWidth}px`);
    tiles.style.setProperty('--gap', `${gap}px`);
  }

  new win.ResizeObserver((entries) => {
    const entry = entries[entries.length - 1];
    const box = entry.borderBoxSize?.[0];
    stageWidth = box ? box.inlineSize : entry.contentRect.width;
    stageHeight = box ? box.blockSize : entry.contentRect.height;
    layout();
  }).observe(stage);

  // ----- status banner -----

  function renderStatus() {
    const notice = CONNECTION_NOTICES[callState];
    let kind = '';
    let text = '';
    let action = '';
    if (notice) {
      kind = callState;
      text = callState === 'error' && connectionDetail ? connectionDetail : notice.text;
      action = notice.action ?? '';
    } else if (callState !== 'left' && mediaNotice.kind && mediaNotice.text && !mediaNotice.dismissed) {
      kind = mediaNotice.kind;
      text = mediaNotice.text;
    }
    status.dataset.kind = kind;
    status.hidden = kind === '';
    statusText.textContent = text;
    statusAction.hidden = action === '';
    statusAction.textContent = action;
    $('status-dismiss').hidden = Boolean(notice);

    const words = /** @type {Record<string, string>} */ ({
      joining: 'Joining…',
      live: 'Connected',
      reconnecting: 'Reconnecting…',
      full: 'Room full',
      left: 'Not in call',
      error: 'Error',
    });
    connection.dataset.kind = callState;
    connection.textContent = words[callState] ?? callState;
  }

  // ----- chat -----

  /** @param {boolean} open */
  function setChatOpen(open) {
    chatOpen = open;
    chatPanel.dataset.open = String(open);
    body.dataset.chat = open ? 'open' : 'closed';
    chatToggle.setAttribute('aria-pressed', String(open));
    if (open) {
      unread = 0;
      chatUnread.hidden = true;
    }
    win.requestAnimationFrame(layout);
  }

  function updateChatAvailability() {
    const usable = openChannels > 0;
    chatSend.disabled = !usable;
    chatInput.placeholder = usable ? 'Message everyone' : 'Waiting for others…';
  }

  /** @param {number} at */
  function timeOf(at) {
    return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // ----- the view the call reports to -----

  /** @type {import('../rtc/call.js').CallView} */
  const view = {
    selfId(peerId) {
      body.dataset.peer = peerId ?? '';
      selfTile.dataset.peer = peerId ?? '';
    },
    localMedia(stream, flags) {
      const video = videoOf(selfTile);
      if (flags.hasVideo) attach(video, stream);
      else video.srcObject = null;
      selfTile.dataset.camera = flags.hasVideo && (flags.camera || flags.sharing) ? 'on' : 'off';
      selfTile.dataset.mic = flags.mic ? 'on' : 'off';
      selfTile.dataset.sharing = String(flags.sharing);
      const mic = $('mic');
      mic.setAttribute('aria-pressed', String(!flags.mic));
      mic.setAttribute('aria-label', flags.hasAudio ? (flags.mic ? 'Mute microphone' : 'Unmute microphone') : 'Turn microphone on');
      mic.querySelector('.label').textContent = flags.mic ? 'Mute' : 'Unmute';
      mic.dataset.available = String(flags.hasAudio);
      const camera = $('camera');
      camera.setAttribute('aria-pressed', String(!flags.camera));
      camera.setAttribute('aria-label', flags.camera ? 'Turn camera off' : 'Turn camera on');
      camera.querySelector('.label').textContent = flags.camera ? 'Stop video' : 'Start video';
      const share = $('share');
      share.setAttribute('aria-pressed', String(flags.sharing));
      share.setAttribute('aria-label', flags.sharing ? 'Stop sharing screen' : 'Share screen');
      share.querySelector('.label').textContent = flags.sharing ? 'Stop share' : 'Share';
    },
    mediaNotice(kind, text) {
      mediaNotice = { kind, text, dismissed: false };
      renderStatus();
    },
    callState(state, detail) {
      callState = state;
      connectionDetail = detail ?? '';
      body.dataset.state = state;
      renderStatus();
      layout();
    },
    peerAdded(peerId) {
      if (remoteTiles.has(peerId)) return;
      const tile = makeTile(peerId);
      remoteTiles.set(peerId, tile);
      tiles.insertBefore(tile, selfTile);
      layout();
    },
    peerRemoved(peerId) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      remoteTiles.delete(peerId);
      videoOf(tile).srcObject = null;
      tile.remove();
      layout();
    },
    peerConnectionState(peerId, state) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      tile.dataset.state = state;
      /** @type {HTMLElement} */ (tile.querySelector('.state')).textContent = STATE_WORDS[state] ?? state;
    },
    peerStream(peerId, stream) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      attach(videoOf(tile), stream);
      if (stream.getVideoTracks().length > 0 && tile.dataset.cameraKnown !== 'true') {
        tile.dataset.camera = 'on';
      }
    },
    peerMedia(peerId, flags) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      tile.dataset.cameraKnown = 'true';
      tile.dataset.camera = flags.camera || flags.sharing ? 'on' : 'off';
      tile.dataset.mic = flags.mic ? 'on' : 'off';
      tile.dataset.sharing = String(flags.sharing);
    },
    chat(message) {
      const item = doc.createElement('li');
      item.className = 'message';
      item.dataset.from = message.from ?? 'self';
      const meta = doc.createElement('div');
      meta.className = 'meta';
      const who = doc.createElement('span');
      who.className = 'who';
      who.textContent = message.from ? peerLabel(message.from) : 'You';
      if (message.from) who.style.setProperty('--hue', String(peerHue(message.from)));
      const when = doc.createElement('time');
      when.dateTime = new Date(message.at).toISOString();
      when.textContent = timeOf(message.at);
      meta.append(who, when);
      const text = doc.createElement('p');
      text.className = 'text';
      text.textContent = message.text;
      item.append(meta, text);
      chatLog.append(item);
      chatEmpty.hidden = true;
      chatLog.scrollTop = chatLog.scrollHeight;
      if (!chatOpen && message.from) {
        unread += 1;
        chatUnread.textContent = unread > 9 ? '9+' : String(unread);
        chatUnread.hidden = false;
      }
    },
    chatChannels(open) {
      openChannels = open;
      updateChatAvailability();
    },
  };

  // ----- controls -----

  /**
   * @param {HTMLButtonElement} button
   * @param {string} done
   */
  async function copyLink(button, done) {
    const original = button.querySelector('.text') ?? button;
    const before = original.textContent;
    let ok = false;
    try {
      await win.navigator.clipboard.writeText(options.roomLink);
      ok = true;
    } catch {
      // The clipboard API needs a secure context; selecting the text is the fallback.
      const input = /** @type {HTMLInputElement} */ ($('room-link'));
      input.select();
      ok = doc.execCommand?.('copy') ?? false;
    }
    original.textContent = ok ? done : 'Select and copy';
    button.dataset.copied = String(ok);
    win.setTimeout(() => {
      original.textContent = before;
      delete button.dataset.copied;
    }, 2000);
  }

  async function fillDevices() {
    const mediaDevices = win.navigator.mediaDevices;
    const devices = await listDevices(mediaDevices).catch(() => ({ audio: [], video: [] }));
    /**
     * @param {HTMLSelectElement} select
     * @param {MediaDeviceInfo[]} list
     * @param {string | null} current
     * @param {string} noun
     */
    const fill = (select, list, current, noun) => {
      select.replaceChildren();
      list.forEach((device, index) => {
        const option = doc.createElement('option');
        option.value = device.deviceId;
        option.textContent = device.label || `${noun} ${index + 1}`;
        option.selected = device.deviceId === current;
        select.append(option);
      });
      if (list.length === 0) {
        const option = doc.createElement('option');
        option.textContent = `No ${noun.toLowerCase()} found`;
        option.value = '';
        select.append(option);
      }
      select.disabled = list.length === 0;
    };
    fill(cameraSelect, devices.video, call?.currentDeviceId('video') ?? null, 'Camera');
    fill(micSelect, devices.audio, call?.currentDeviceId('audio') ?? null, 'Microphone');
    $('devices-note').textContent = win.isSecureContext
      ? ''
      : 'Devices are available only when the page is opened with https://.';
  }

  /**
   * @param {Call} theCall
   */
  function bind(theCall) {
    call = theCall;
    const on = (/** @type {string} */ id, /** @type {() => void} */ fn) => $(id).addEventListener('click', fn);
    on('mic', () => theCall.toggleMic());
    on('camera', () => theCall.toggleCamera());
    on('share', () => theCall.toggleShare());
    on('hangup', () => theCall.hangUp());
    on('rejoin', () => {
      chatLog.replaceChildren();
      chatEmpty.hidden = false;
      theCall.start();
    });
    on('status-action', () => theCall.retryJoin());
    on('status-dismiss', () => {
      mediaNotice.dismissed = true;
      renderStatus();
    });
    on('copy-link', () => copyLink(/** @type {HTMLButtonElement} */ ($('copy-link')), 'Copied'));
    on('copy-link-top', () => copyLink(/** @type {HTMLButtonElement} */ ($('copy-link-top')), 'Copied'));
    on('chat-toggle', () => {
      setChatOpen(!chatOpen);
      if (chatOpen) chatInput.focus();
    });
    on('chat-close', () => {
      setChatOpen(false);
      chatToggle.focus();
    });
    on('enable-sound', () => {
      for (const video of tiles.querySelectorAll('video')) {
        const v = /** @type {HTMLVideoElement} */ (video);
        if (v.dataset.wantsSound !== 'true') continue;
        v.muted = false;
        delete v.dataset.wantsSound;
        v.play().catch(() => {});
      }
      enableSound.hidden = true;
    });
    $('chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      if (theCall.sendChat(chatInput.value)) chatInput.value = '';
    });
    on('devices', async () => {
      await fillDevices();
      devicesDialog.showModal();
    });
    on('devices-close', () => devicesDialog.close());
    cameraSelect.addEventListener('change', () => {
      if (cameraSelect.value) theCall.chooseDevice('video', cameraSelect.value);
    });
    micSelect.addEventListener('change', () => {
      if (micSelect.value) theCall.chooseDevice('audio', micSelect.value);
    });
    win.navigator.mediaDevices?.addEventListener?.('devicechange', () => {
      if (devicesDialog.open) fillDevices();
    });
    view.callState('joining');
  }

  return { view, bind };
}
