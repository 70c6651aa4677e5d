// One video tile: its elements (the video, the avatar with initials and hue, the caption with
// name, mute icon, connection state and safety code), the words for a connection's state,
// and playing a stream in it, muted when the browser refuses sound before a gesture (the
// "Turn on sound" button brings it back). It writes peer-provided text only with textContent
// and knows nothing of the grid.
'use strict';

import { displayName, initialsOf } from '../ux/display-name.js';
import { SELF } from '../ux/monitor.js';
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
 * @param {Document} doc
 * @param {string | null} peerId null for the local tile.
 * @returns {HTMLElement}
 */
export function makeTile(doc, peerId) {
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
export const videoOf = (tile) => /** @type {HTMLVideoElement} */ (tile.querySelector('video'));

/**
 * Plays `stream` in `video`. Browsers refuse to start sound without a gesture for a page that
 * holds no microphone (a user who denied it): the video plays muted then, and the
 * "Turn on sound" button brings the sound with one click.
 * @param {HTMLVideoElement} video
 * @param {MediaStream} stream
 * @param {HTMLElement} enableSound
 */
export function attach(video, stream, enableSound) {
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
export function bindEnableSound(tiles, enableSound) {
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

/** @typedef {import('../rtc/local-media.js').MediaFlags & {hasVideo: boolean}} LocalFlags */

/**
 * The own tile: the local stream (or none without video) and what is on.
 * @param {HTMLElement} tile
 * @param {MediaStream} stream
 * @param {LocalFlags} flags
 * @param {HTMLElement} enableSound
 */
export function showLocalMedia(tile, stream, flags, enableSound) {
  const video = videoOf(tile);
  if (flags.hasVideo) attach(video, stream, enableSound);
  else video.srcObject = null;
  tile.dataset.camera = flags.hasVideo && (flags.camera || flags.sharing) ? 'on' : 'off';
  tile.dataset.mic = flags.mic ? 'on' : 'off';
  tile.dataset.sharing = String(flags.sharing);
}

/**
 * @param {HTMLElement} tile A remote tile.
 * @param {string} state The RTCPeerConnection's state.
 */
export function showConnectionState(tile, state) {
  tile.dataset.state = state;
  /** @type {HTMLElement} */ (tile.querySelector('.state')).textContent = STATE_WORDS[state] ?? state;
}

/**
 * @param {HTMLElement} tile A remote tile.
 * @param {string} code
 */
export function showSafetyCode(tile, code) {
  tile.dataset.safetyCode = code;
  /** @type {HTMLElement} */ (tile.querySelector('.safety')).textContent = `Code ${code}`;
}

/**
 * Plays a remote stream; a video track shows the camera until the peer's own note says
 * otherwise.
 * @param {HTMLElement} tile
 * @param {MediaStream} stream
 * @param {HTMLElement} enableSound
 */
export function showRemoteStream(tile, stream, enableSound) {
  attach(videoOf(tile), stream, enableSound);
  if (stream.getVideoTracks().length > 0 && tile.dataset.cameraKnown !== 'true') {
    tile.dataset.camera = 'on';
  }
}

/**
 * What a remote peer says it has on (its note on the data channel).
 * @param {HTMLElement} tile
 * @param {import('../rtc/local-media.js').MediaFlags} flags
 */
export function showRemoteMedia(tile, flags) {
  tile.dataset.cameraKnown = 'true';
  tile.dataset.camera = flags.camera || flags.sharing ? 'on' : 'off';
  tile.dataset.mic = flags.mic ? 'on' : 'off';
  tile.dataset.sharing = String(flags.sharing);
}

/**
 * Shows the name a participant goes by ('' for none: the neutral label stays).
 * @param {HTMLElement} tile
 * @param {string} key A peer id, or SELF.
 * @param {string} name
 * @returns {string} The label shown, for the tile's tools.
 */
export function showName(tile, key, name) {
  const label = key === SELF ? (name ? `${name} (you)` : 'You') : displayName(name, key);
  /** @type {HTMLElement} */ (tile.querySelector('.name')).textContent = label;
  const initials = name ? initialsOf(name) : key === SELF ? 'You' : peerInitials(key);
  /** @type {HTMLElement} */ (tile.querySelector('.avatar span')).textContent = initials;
  return label;
}
