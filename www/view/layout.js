// The geometry of the video grid: how many columns, and how large each tile, so that the tiles
// fill as much of the stage as they can without getting absurdly wide or tall. Pure
// arithmetic, so it is tested without a DOM.
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
