// The stage: one video tile per participant (the own one first made, remote ones inserted
// before it), the waiting and "you left" panels, and the grid geometry that sizes them from
// the stage's measured size (layout.js). It writes peer-provided text only with textContent.
'use strict';

import { chooseGrid } from './layout.js';
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
 * @typedef {object} Page
 * @property {Document} doc
 * @property {Window} win
 * @property {(id: string) => HTMLElement} $
 */

/**
 * @param {Document} doc
 * @param {string | null} peerId null for the local tile.
 * @returns {HTMLElement}
 */
function makeTile(doc, peerId) {
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
  const safety = doc.createElement('span');
  safety.className = 'safety';
  caption.append(muted, name, state, safety);
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
 * Plays `stream` in `video`. Browsers refuse to start sound without a gesture for a page that
 * holds no microphone (a user who denied it): the video plays muted then, and the
 * "Turn on sound" button brings the sound with one click.
 * @param {HTMLVideoElement} video
 * @param {MediaStream} stream
 * @param {HTMLElement} enableSound
 */
function attach(video, stream, enableSound) {
  if (video.srcObject !== stream) video.srcObject = stream;
  const playing = video.play();
  playing?.catch((error) => {
    if (error?.name !== 'NotAllowedError' || video.muted) return;
    video.muted = true;
    video.dataset.wantsSound = 'true';
    video.play().catch(() => {});
    enableSound.hidden = false;
  });
}

/**
 * @param {HTMLElement} tiles
 * @param {HTMLElement} enableSound
 */
function bindEnableSound(tiles, enableSound) {
  enableSound.addEventListener('click', () => {
    for (const video of tiles.querySelectorAll('video')) {
      const v = /** @type {HTMLVideoElement} */ (video);
      if (v.dataset.wantsSound !== 'true') continue;
      v.muted = false;
      delete v.dataset.wantsSound;
      v.play().catch(() => {});
    }
    enableSound.hidden = true;
  });
}

/**
 * @param {Page} page
 */
export function createTiles(page) {
  const { doc, win, $ } = page;
  const body = doc.body;
  const tiles = $('tiles');
  const waiting = $('waiting');
  const ended = $('ended');
  const enableSound = $('enable-sound');
  /** @type {Map<string, HTMLElement>} */
  const remoteTiles = new Map();
  const selfTile = makeTile(doc, null);
  tiles.prepend(selfTile);
  let callState = 'joining';

  // The stage's size as the ResizeObserver last reported it. Asking the DOM instead
  // (getBoundingClientRect) would make the browser lay the page out again on the spot, at
  // every tile added or state changed: measured, that was the page's costliest script while a
  // call was starting.
  let stageWidth = win.innerWidth;
  let stageHeight = win.innerHeight;

  function layout() {
    const remoteCount = remoteTiles.size;
    body.dataset.peers = String(remoteCount);
    const inCall = callState !== 'left' && callState !== 'full' && callState !== 'incomplete';
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
  }).observe($('stage'));

  bindEnableSound(tiles, enableSound);

  return {
    layout,
    /** @param {string} state */
    callState(state) {
      callState = state;
      layout();
    },
    /** @param {string | null} peerId */
    selfId(peerId) {
      selfTile.dataset.peer = peerId ?? '';
    },
    /**
     * @param {MediaStream} stream
     * @param {import('../rtc/local-media.js').MediaFlags & {hasVideo: boolean}} flags
     */
    localMedia(stream, flags) {
      const video = videoOf(selfTile);
      if (flags.hasVideo) attach(video, stream, enableSound);
      else video.srcObject = null;
      selfTile.dataset.camera = flags.hasVideo && (flags.camera || flags.sharing) ? 'on' : 'off';
      selfTile.dataset.mic = flags.mic ? 'on' : 'off';
      selfTile.dataset.sharing = String(flags.sharing);
    },
    /** @param {string} peerId */
    peerAdded(peerId) {
      if (remoteTiles.has(peerId)) return;
      const tile = makeTile(doc, peerId);
      remoteTiles.set(peerId, tile);
      tiles.insertBefore(tile, selfTile);
      layout();
    },
    /** @param {string} peerId */
    peerRemoved(peerId) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      remoteTiles.delete(peerId);
      videoOf(tile).srcObject = null;
      tile.remove();
      layout();
    },
    /**
     * @param {string} peerId
     * @param {string} state
     */
    peerConnectionState(peerId, state) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      tile.dataset.state = state;
      /** @type {HTMLElement} */ (tile.querySelector('.state')).textContent = STATE_WORDS[state] ?? state;
    },
    /**
     * @param {string} peerId
     * @param {string} code
     */
    peerSafetyCode(peerId, code) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      tile.dataset.safetyCode = code;
      /** @type {HTMLElement} */ (tile.querySelector('.safety')).textContent = `Code ${code}`;
    },
    /**
     * @param {string} peerId
     * @param {MediaStream} stream
     */
    peerStream(peerId, stream) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      attach(videoOf(tile), stream, enableSound);
      if (stream.getVideoTracks().length > 0 && tile.dataset.cameraKnown !== 'true') {
        tile.dataset.camera = 'on';
      }
    },
    /**
     * @param {string} peerId
     * @param {import('../rtc/local-media.js').MediaFlags} flags
     */
    peerMedia(peerId, flags) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      tile.dataset.cameraKnown = 'true';
      tile.dataset.camera = flags.camera || flags.sharing ? 'on' : 'off';
      tile.dataset.mic = flags.mic ? 'on' : 'off';
      tile.dataset.sharing = String(flags.sharing);
    },
  };
}
