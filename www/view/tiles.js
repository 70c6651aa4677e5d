// The tiles: one video tile per participant (video-tile.js; the own one first made, remote
// ones inserted before it), what the call reports shown on the right one, and a tile pinned
// or let go; stage.js lays them out. Each tile shows its participant's name, whether they
// speak, and (tile-extras.js) tools and line quality. It writes peer-provided text only
// with textContent.
'use strict';

import { SELF } from '../ux/monitor.js';
import { peerLabel } from './names.js';
import { createStage } from './stage.js';
import { decorateTile } from './tile-extras.js';
import { bindEnableSound, makeTile, showConnectionState, showLocalMedia } from './video-tile.js';
import { showName, showRemoteMedia, showRemoteStream, showSafetyCode, videoOf } from './video-tile.js';

/**
 * @typedef {object} Page
 * @property {Document} doc
 * @property {Window} win
 * @property {(id: string) => HTMLElement} $
 */

/**
 * @param {Page} page
 */
export function createTiles(page) {
  const { doc, $ } = page;
  const tiles = $('tiles');
  const enableSound = $('enable-sound');
  /** @type {Map<string, HTMLElement>} */
  const remoteTiles = new Map();
  /** @type {Map<string, ReturnType<typeof decorateTile>>} */
  const extras = new Map();
  const selfTile = makeTile(doc, null);
  tiles.prepend(selfTile);
  extras.set(SELF, decorateTile(doc, selfTile, { remote: false, onPin: () => pin(SELF) }));
  extras.get(SELF)?.setLabel('You');
  const stage = createStage(page, selfTile, remoteTiles);
  const { layout } = stage;

  /** @param {string} key */
  function pin(key) {
    const pinned = stage.togglePin(key);
    for (const [other, extra] of extras) extra.setPinned(other === pinned);
    layout();
  }

  /** @param {string} key */
  const tileOf = (key) => (key === SELF ? selfTile : remoteTiles.get(key));

  /**
   * Runs `show` on a remote peer's tile, if it has one.
   * @param {string} peerId
   * @param {(tile: HTMLElement) => void} show
   */
  function withRemote(peerId, show) {
    const tile = remoteTiles.get(peerId);
    if (tile) show(tile);
  }

  bindEnableSound(tiles, enableSound);

  return {
    layout,
    callState: stage.callState,
    /** @param {string | null} peerId */
    selfId(peerId) {
      selfTile.dataset.peer = peerId ?? '';
    },
    /** @type {(stream: MediaStream, flags: import('./video-tile.js').LocalFlags) => void} */
    localMedia: (stream, flags) => showLocalMedia(selfTile, stream, flags, enableSound),
    /** @param {string} peerId */
    peerAdded(peerId) {
      if (remoteTiles.has(peerId)) return;
      const tile = makeTile(doc, peerId);
      remoteTiles.set(peerId, tile);
      const extra = decorateTile(doc, tile, { remote: true, onPin: () => pin(peerId) });
      extra.setLabel(peerLabel(peerId));
      extras.set(peerId, extra);
      tiles.insertBefore(tile, selfTile);
      layout();
    },
    /** @param {string} peerId */
    peerRemoved(peerId) {
      const tile = remoteTiles.get(peerId);
      if (!tile) return;
      remoteTiles.delete(peerId);
      extras.get(peerId)?.remove();
      extras.delete(peerId);
      stage.forget(peerId);
      videoOf(tile).srcObject = null;
      tile.remove();
      layout();
    },
    /** @type {(peerId: string, state: string) => void} */
    peerConnectionState: (peerId, state) => withRemote(peerId, (tile) => showConnectionState(tile, state)),
    /** @type {(peerId: string, code: string) => void} */
    peerSafetyCode: (peerId, code) => withRemote(peerId, (tile) => showSafetyCode(tile, code)),
    /** @type {(peerId: string, stream: MediaStream) => void} */
    peerStream: (peerId, stream) => withRemote(peerId, (tile) => showRemoteStream(tile, stream, enableSound)),
    /** @type {(peerId: string, flags: import('../rtc/local-media.js').MediaFlags) => void} */
    peerMedia: (peerId, flags) => withRemote(peerId, (tile) => showRemoteMedia(tile, flags)),
    /**
     * Shows the name a participant goes by ('' for none: the neutral label stays).
     * @param {string} key A peer id, or SELF.
     * @param {string} name
     */
    name(key, name) {
      const tile = tileOf(key);
      if (tile) extras.get(key)?.setLabel(showName(tile, key, name));
    },
    /** @param {import('../ux/speaker.js').SpeakerState} state */
    speakers(state) {
      for (const key of extras.keys()) {
        const tile = tileOf(key);
        if (tile) tile.dataset.speaking = String(state.active === key);
      }
    },
    /** @type {(peerId: string, line: import('../ux/quality.js').LineQuality) => void} */
    quality: (peerId, line) => extras.get(peerId)?.quality(line),
  };
}