// How a peer is shown: the protocol carries no names, so a peer gets a neutral label and a
// colour derived from its id, the same on every page that sees it. Pure functions.
'use strict';

/**
 * A short, stable name for a peer, since the protocol carries no names.
 * @param {string} peerId
 * @returns {string}
 */
export function peerLabel(peerId) {
  return `Guest ${peerId.slice(0, 4)}`;
}

/**
 * A stable hue (0-359) for a peer's avatar and chat name, so a peer is recognisable.
 * @param {string} peerId
 * @returns {number}
 */
export function peerHue(peerId) {
  let hash = 0;
  for (let i = 0; i < peerId.length; i += 1) hash = (hash * 31 + peerId.charCodeAt(i)) >>> 0;
  return hash % 360;
}

/**
 * The one or two letters an avatar shows for a peer.
 * @param {string} peerId
 * @returns {string}
 */
export function peerInitials(peerId) {
  return (peerId.replace(/[^A-Za-z0-9]/g, '').slice(0, 2) || '?').toUpperCase();
}
