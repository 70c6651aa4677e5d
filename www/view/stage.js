// The stage: the waiting and "you left" panels, the self view in a corner, one pinned tile
// large above a strip of the others, and the grid's CSS variables, from layout.js's
// stageLayout for the call's state and the stage's size as a ResizeObserver reports it. It
// reads the tiles (tiles.js owns them) and never adds or removes one.
'use strict';

import { SELF } from '../ux/monitor.js';
import { stageLayout } from './layout.js';

/**
 * @param {import('./tiles.js').Page} page
 * @param {HTMLElement} selfTile
 * @param {Map<string, HTMLElement>} remoteTiles The remote tiles by peer id (read only).
 */
export function createStage(page, selfTile, remoteTiles) {
  const { doc, win, $ } = page;
  const body = doc.body;
  const tiles = $('tiles');
  const waiting = $('waiting');
  const ended = $('ended');
  let callState = 'joining';
  /** The pinned tile's key (a peer id, or SELF), or null. */
  let pinned = /** @type {string | null} */ (null);

  // The stage's size as the ResizeObserver last reported it. Asking the DOM instead
  // (getBoundingClientRect) would make the browser lay the page out again on the spot, at
  // every tile added or state changed: measured, that was the page's costliest script while a
  // call was starting.
  let stageWidth = win.innerWidth;
  let stageHeight = win.innerHeight;

  function layout() {
    const remoteCount = remoteTiles.size;
    body.dataset.peers = String(remoteCount);
    const pinnedRemote = pinned === null || pinned === SELF ? undefined : remoteTiles.get(pinned);
    const stage = stageLayout({
      remoteCount,
      callState,
      pinned: pinned === SELF ? 'self' : pinnedRemote && !pinnedRemote.hidden ? 'remote' : 'none',
      width: stageWidth,
      height: stageHeight,
    });
    waiting.hidden = !stage.waiting;
    ended.hidden = !stage.ended;
    selfTile.hidden = stage.selfHidden;
    selfTile.classList.toggle('pip', stage.pip);
    tiles.dataset.spotlight = String(stage.spot !== null);
    if (stage.spot) {
      tiles.style.setProperty('--spot-width', `${stage.spot.width}px`);
      tiles.style.setProperty('--spot-height', `${stage.spot.height}px`);
    }
    const { grid } = stage;
    tiles.style.setProperty('--columns', String(grid.columns));
    tiles.style.setProperty('--tile-width', `${grid.tileWidth}px`);
    tiles.style.setProperty('--tile-height', `${grid.tileHeight}px`);
    tiles.style.setProperty('--grid-width', `${grid.width}px`);
    tiles.style.setProperty('--gap', `${grid.gap}px`);
  }

  new win.ResizeObserver((entries) => {
    const entry = entries[entries.length - 1];
    const box = entry.borderBoxSize?.[0];
    stageWidth = box ? box.inlineSize : entry.contentRect.width;
    stageHeight = box ? box.blockSize : entry.contentRect.height;
    layout();
  }).observe($('stage'));

  return {
    layout,
    /** @param {string} state */
    callState(state) {
      callState = state;
      layout();
    },
    /**
     * Pins the tile of `key` (a peer id, or SELF), or lets it go when it is the pinned one.
     * The caller lays the stage out again.
     * @param {string} key
     * @returns {string | null} The pinned key now.
     */
    togglePin(key) {
      pinned = pinned === key ? null : key;
      return pinned;
    },
    /** @param {string} peerId A peer whose tile is gone: it is pinned no more. */
    forget(peerId) {
      if (pinned === peerId) pinned = null;
    },
  };
}
