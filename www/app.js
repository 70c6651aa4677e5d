// The entry point: reads the room from the page's URL, builds the page's view and the call,
// joins at once, and leaves when the page goes away. It is the only module that reaches for
// browser globals (location, navigator, RTCPeerConnection); the others get them passed in.
//
// What end-to-end tests can rely on (stable hooks, kept in step with the modules of view/):
// - document.body.dataset.peer: this client's peer id ('' before the join and after leaving).
// - document.body.dataset.state: 'joining' | 'live' | 'reconnecting' | 'full' | 'left' | 'error'
//   | 'incomplete' (a sealed room opened from a link without its #k= key: nothing joined).
// - The link's fragment #k=KEY is the sealed room's key (net/seal.js); a fresh room (the bare
//   URL's redirect) gets one. #seal-state has data-sealed="true|false" after the join and
//   opens #security-dialog, whose #safety-codes lists li[data-peer] with the code in .code.
//   A remote tile gets data-safety-code="NNNN NNNN NNNN" once connected.
// - document.body.dataset.peers: the number of remote peers with a tile, as a string.
// - #tiles > figure.tile: one per participant. The own tile has data-self="true". A remote
//   tile has data-peer="ID" and data-state="<RTCPeerConnection connectionState>" ('new',
//   'connecting', 'connected', 'disconnected', 'failed'). Every tile has data-camera="on|off"
//   and data-mic="on|off" (for remote tiles as the peer reported them over the data channel).
// - #waiting: visible while nobody else is in the room; #room-link holds the link,
//   #copy-link copies it.
// - #status with data-kind: '' (hidden), 'reconnecting', 'incomplete', 'full' (with #status-action
//   "Try again"), 'error', or a media problem: 'insecure', 'denied', 'nodevice', 'busy',
//   'other', 'screen' (sharing the screen failed, other than by refusal), or 'tampered' (the
//   host altered a message of a sealed room). #status-text holds the sentence.
// - Controls: #mic, #camera, #share (aria-pressed="true" while muted / camera off / sharing),
//   #devices (opens #devices-dialog with #camera-select and #mic-select), #chat-toggle,
//   #hangup. After hanging up, #ended is visible and #rejoin joins again.
// - Chat: #chat-input, #chat-send (disabled until a data channel is open), #chat-log with one
//   li.message per message, data-from="self" or the sender's peer id, text in .text.
//   The chat panel is open by default at 900 px and wider; #chat-toggle opens it otherwise.
// - Names: #name-card (#name-input, #name-save, #name-skip) asks once when the page opens;
//   #name-field in the device dialog renames. A tile's name is in figcaption .name (the own
//   one ends in "(you)"), and under the avatar in .avatar-name while the camera is off.
// - Every tile has data-speaking="true" while it is the highlighted speaker; a remote tile has
//   data-quality="good|fair|poor|unknown", a .quality-button (aria-expanded) opening
//   .quality-details with one dd[data-label] per figure ('Round trip', 'Loss received',
//   'Loss sent', 'Receiving', 'Sending', 'Route', 'Video'), and .tile-tools with .pin
//   (aria-pressed), .fullscreen and .pip-button. #muted-hint shows while one talks muted;
//   #peer-banner names the peers whose connection is being repaired.
// - Shortcuts: #shortcuts-button or ? opens #shortcuts-dialog.
// - #uplink-select in the device dialog: the video upload budget (bits per second).
// - Files: #file-to (a peer id, or '' for everyone), #file-input, #file-note (the size limit),
//   #transfers li.transfer with data-direction="in|out", data-state (../ux/files.js states),
//   data-peer, a progress bar, .transfer-cancel and, once a file is in, .transfer-save.
// - window.webrtcCgi: read-only debugging info, fresh on every read:
//   { peerId, peers: Map<id, {connectionState, iceConnectionState, signalingState,
//     channelState, polite}>, transport, streams, polling, sealed, media, stats(id) }.
//     `polling` is true once the client found the host buffering held responses and switched
//     to hold=0; `stats(id)` is the connection's getStats() promise. Also `name` (the own
//     one) and `bitratePlans` (Map<id, {maxBitrate, scaleResolutionDownBy}>).
'use strict';

import { isValidRoom } from './net/protocol.js';
import { deriveRoomKey, fragmentOf, newSecret, secretFromFragment } from './net/seal.js';
import { createCall } from './rtc/call.js';
import { createUi } from './view/ui.js';

/**
 * Whether this page is the fresh room the bare URL redirected to: only then does it make the
 * room's secret. A page opened from a link without one (an old link, or a cut-off one) must
 * not, or it would seal a room others already use with a key they do not have.
 */
function cameFromFreshRoomRedirect() {
  const [navigation] = /** @type {PerformanceNavigationTiming[]} */ (performance.getEntriesByType('navigation'));
  return (navigation?.redirectCount ?? 0) > 0 && navigation.type === 'navigate';
}

/**
 * The room's secret from the fragment, or a new one written there (without a reload) for a
 * fresh room. Null where the page cannot seal (no WebCrypto outside a secure context).
 * @returns {Uint8Array | null}
 */
function roomSecret() {
  if (!globalThis.crypto?.subtle) return null;
  const secret = secretFromFragment(location.hash);
  if (secret || !cameFromFreshRoomRedirect()) return secret;
  const fragment = fragmentOf(newSecret(crypto));
  history.replaceState(history.state, '', `${location.pathname}${location.search}${fragment}`);
  return secretFromFragment(fragment);
}

async function main() {
  const params = new URLSearchParams(location.search);
  const room = params.get('room') ?? '';
  const secret = isValidRoom(room) ? roomSecret() : null;
  // The link to share is the whole link: the fragment carries the room's key.
  const fragment = secret ? location.hash : '';
  const roomLink = `${location.origin}${location.pathname}?room=${encodeURIComponent(room)}${fragment}`;
  const ui = createUi(document, { room, roomLink });

  if (!isValidRoom(room)) {
    ui.withoutCall('This link has no valid room name. Open the page without ?room= to get a new room.');
    return;
  }
  if (typeof RTCPeerConnection !== 'function') {
    ui.withoutCall('This browser cannot make video calls. Use a current Chrome, Firefox, Edge or Safari.');
    return;
  }

  if (secretFromFragment(location.hash) && !globalThis.crypto?.subtle) {
    ui.withoutCall('This room is sealed, and a sealed room needs a secure page. Open the link with https://.');
    return;
  }

  const call = createCall({
    apiPath: location.pathname,
    room,
    crypto: globalThis.crypto?.subtle ? crypto : undefined,
    key: secret ? await deriveRoomKey(crypto.subtle, secret, room) : null,
    view: ui.view,
    secure: window.isSecureContext,
    mediaDevices: navigator.mediaDevices,
    RTCPeerConnection,
    MediaStream,
    AudioContext: window.AudioContext,
  });
  ui.bind(call);

  Object.defineProperty(window, 'webrtcCgi', {
    get: () => Object.freeze(call.debug()),
    configurable: false,
    enumerable: false,
  });

  // pagehide (not unload) fires reliably on phones and does not keep the page out of the
  // back/forward cache.
  window.addEventListener('pagehide', () => call.leaveOnUnload());
  window.addEventListener('pageshow', (event) => {
    // A page restored from the back/forward cache has left the room already.
    if (event.persisted) location.reload();
  });

  call.start();
}

main().catch((error) => console.error("webrtc-cgi: the page could not start:", error));
