// What a tile shows beyond its video: the camera-off icon, the name under the avatar, and
// for a remote tile the connection indicator (quality-badge.js) and the tile's tools:
// pin (spotlight), full screen and picture-in-picture where the browser has them. It owns
// those elements and their labels; the layout of a pinned tile is tiles.js's.
'use strict';

import { make } from './dom.js';
import { createQualityBadge } from './quality-badge.js';

/**
 * @param {Document} doc
 * @param {string} symbol
 * @param {string} className
 */
function icon(doc, symbol, className = 'icon') {
  const svg = doc.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  const use = doc.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', symbol);
  svg.append(use);
  return svg;
}

/**
 * @param {Document} doc
 * @param {string} symbol
 */
function toolButton(doc, symbol) {
  const button = make(doc, 'button', { type: 'button', attributes: { 'aria-pressed': 'false' } });
  button.append(icon(doc, symbol));
  return button;
}

/**
 * @param {Document} doc
 * @param {HTMLElement} tile
 * @param {{remote: boolean, onPin: () => void}} options
 */
export function decorateTile(doc, tile, options) {
  const video = /** @type {HTMLVideoElement} */ (tile.querySelector('video'));
  const caption = /** @type {HTMLElement} */ (tile.querySelector('figcaption'));
  const avatar = /** @type {HTMLElement} */ (tile.querySelector('.avatar'));
  caption.prepend(icon(doc, '#i-cam-off', 'icon camera-off-icon'));
  const avatarName = make(doc, 'span', { className: 'avatar-name' });
  avatar.append(avatarName);

  const tools = make(doc, 'div', { className: 'tile-tools' });
  const pin = toolButton(doc, '#i-pin');
  pin.classList.add('pin');
  pin.addEventListener('click', options.onPin);
  const fullscreen = toolButton(doc, '#i-expand');
  fullscreen.classList.add('fullscreen');
  fullscreen.hidden = typeof tile.requestFullscreen !== 'function';
  fullscreen.addEventListener('click', () => {
    if (doc.fullscreenElement === tile) doc.exitFullscreen().catch(() => {});
    else tile.requestFullscreen().catch((error) => console.warn('requestFullscreen:', error));
  });
  const pip = toolButton(doc, '#i-pip');
  pip.classList.add('pip-button');
  pip.hidden = !doc.pictureInPictureEnabled || typeof video.requestPictureInPicture !== 'function';
  pip.addEventListener('click', () => {
    if (doc.pictureInPictureElement === video) doc.exitPictureInPicture().catch(() => {});
    else video.requestPictureInPicture().catch((error) => console.warn('requestPictureInPicture:', error));
  });
  tools.append(pin, fullscreen, pip);
  tile.append(tools);
  const sync = () => {
    fullscreen.setAttribute('aria-pressed', String(doc.fullscreenElement === tile));
    pip.setAttribute('aria-pressed', String(doc.pictureInPictureElement === video));
  };
  doc.addEventListener('fullscreenchange', sync);
  video.addEventListener('enterpictureinpicture', sync);
  video.addEventListener('leavepictureinpicture', sync);

  const badge = options.remote ? createQualityBadge(doc, '') : null;
  if (badge) tile.append(badge.root);

  return {
    /** @param {string} label The participant's name as shown. */
    setLabel(label) {
      avatarName.textContent = label;
      pin.setAttribute('aria-label', `Pin ${label}`);
      fullscreen.setAttribute('aria-label', `Show ${label} full screen`);
      pip.setAttribute('aria-label', `Picture in picture: ${label}`);
      badge?.rename(label);
    },
    /** @param {boolean} pinned */
    setPinned(pinned) {
      pin.setAttribute('aria-pressed', String(pinned));
      tile.classList.toggle('pinned', pinned);
    },
    /** @param {import('../ux/quality.js').LineQuality} line */
    quality(line) {
      tile.dataset.quality = line.grade;
      badge?.update(line);
    },
    /** Lets go of page-wide listeners when the tile goes. */
    remove() {
      doc.removeEventListener('fullscreenchange', sync);
      if (doc.pictureInPictureElement === video) doc.exitPictureInPicture().catch(() => {});
    },
  };
}
