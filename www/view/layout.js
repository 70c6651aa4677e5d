// The geometry of the video grid: how many columns, and how large each tile, so that the tiles
// fill as much of the stage as they can without getting absurdly wide or tall (chooseGrid),
// and what the stage shows for a call's state (stageLayout: the panels, the self view in a
// corner, a pinned tile above a strip of the others). Pure arithmetic, so it is tested
// without a DOM.
'use strict';

/**
 * Picks the column count that gives the largest tiles. A tile fills its grid cell as long as
 * the cell's shape lies between minAspect and maxAspect (width / height); beyond that it keeps
 * the limiting shape and leaves space around it.
 * @param {number} count Number of tiles (at least 1 is assumed).
 * @param {number} width Stage width in CSS pixels.
 * @param {number} height Stage height in CSS pixels.
 * @param {{minAspect?: number, maxAspect?: number, gap?: number}} [options]
 * @returns {{columns: number, rows: number, tileWidth: number, tileHeight: number}}
 */
export function chooseGrid(count, width, height, options = {}) {
  const minAspect = options.minAspect ?? 3 / 4;
  const maxAspect = options.maxAspect ?? 16 / 9;
  const gap = options.gap ?? 8;
  const tiles = Math.max(1, count);
  let best = { columns: 1, rows: tiles, tileWidth: 0, tileHeight: 0 };
  let bestArea = -1;
  for (let columns = 1; columns <= tiles; columns += 1) {
    const rows = Math.ceil(tiles / columns);
    const cellWidth = Math.max(0, (width - gap * (columns - 1)) / columns);
    const cellHeight = Math.max(0, (height - gap * (rows - 1)) / rows);
    let tileWidth = cellWidth;
    let tileHeight = cellHeight;
    if (cellHeight > 0 && cellWidth / cellHeight > maxAspect) tileWidth = cellHeight * maxAspect;
    if (cellHeight > 0 && cellWidth / cellHeight < minAspect) tileHeight = cellWidth / minAspect;
    const area = tileWidth * tileHeight;
    // A strictly larger area is needed to add a column, so ties keep the simpler layout.
    if (area > bestArea * 1.001) {
      bestArea = area;
      best = { columns, rows, tileWidth, tileHeight };
    }
  }
  return best;
}

/**
 * @typedef {object} StageInput
 * @property {number} remoteCount Remote tiles on the stage.
 * @property {string} callState The call's state word (joining, waiting, in-call, left, ...).
 * @property {'none' | 'self' | 'remote'} pinned Which tile is pinned (a remote one only when
 *   it is on the stage and shown).
 * @property {number} width The stage's size in CSS pixels.
 * @property {number} height
 *
 * @typedef {object} StageLayout
 * @property {boolean} waiting The "waiting for others" card is shown.
 * @property {boolean} ended The "you left" panel is shown.
 * @property {boolean} selfHidden
 * @property {boolean} pip The self view sits small in a corner.
 * @property {{width: number, height: number} | null} spot The pinned tile's size, or null.
 * @property {{columns: number, tileWidth: number, tileHeight: number, width: number, gap: number}} grid
 *   The grid of the tiles (of the strip under a pinned tile), in whole pixels.
 */

/**
 * What the stage shows and how large, for a call's state and the stage's size.
 * @param {StageInput} input
 * @returns {StageLayout}
 */
export function stageLayout({ remoteCount, callState, pinned, width, height }) {
  const inCall = callState !== 'left' && callState !== 'full' && callState !== 'incomplete';
  const waiting = inCall && remoteCount === 0 && callState !== 'joining' && callState !== 'error';
  const selfHidden = callState === 'left';
  const spotlight = pinned === 'remote' || (pinned === 'self' && !selfHidden);
  // With one other person the self view shrinks into a corner, as in a phone call.
  const pip = remoteCount === 1 && inCall && !spotlight;
  // The waiting card takes a grid cell of its own, so it sits beside the self view.
  const items = remoteCount + (pip || selfHidden ? 0 : 1) + (waiting ? 1 : 0);
  const gap = width < 500 ? 6 : 10;
  const panels = { waiting, ended: callState === 'left', selfHidden, pip };
  if (spotlight) {
    // The pinned tile takes the stage above a strip of the others.
    const others = items - 1;
    const strip = others > 0 ? Math.max(64, Math.round(height * 0.22)) : 0;
    const big = chooseGrid(1, width, height - strip - (others > 0 ? gap : 0), { gap, minAspect: 9 / 16 });
    const small = wholeGrid(chooseGrid(Math.max(1, others), width, strip, { gap, minAspect: 4 / 3 }), gap);
    const spot = { width: Math.floor(big.tileWidth), height: Math.floor(big.tileHeight) };
    return { ...panels, spot, grid: { ...small, width: Math.max(spot.width, small.width) } };
  }
  // A lone tile may take the stage's own shape (a phone held upright); several tiles on a
  // wide stage stay landscape, so that a face is not cropped into a narrow strip.
  const minAspect = items <= 1 ? 9 / 16 : width > height ? 4 / 3 : 3 / 4;
  const grid = chooseGrid(Math.max(1, items), width, height, { gap, minAspect });
  return { ...panels, spot: null, grid: wholeGrid(grid, gap) };
}

/**
 * A grid in whole pixels, with the width its columns and gaps take.
 * @param {{columns: number, tileWidth: number, tileHeight: number}} grid
 * @param {number} gap
 */
function wholeGrid(grid, gap) {
  const tileWidth = Math.floor(grid.tileWidth);
  const width = grid.columns * tileWidth + (grid.columns - 1) * gap;
  return { columns: grid.columns, tileWidth, tileHeight: Math.floor(grid.tileHeight), width, gap };
}
