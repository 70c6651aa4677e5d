// The entry point: reads the room from the page's URL, builds the page's view and the call,
// joins at once, and leaves when the page goes away. It is the only module that reaches for
// browser globals (location, navigator, RTCPeerConnection); the others get them passed in.
//
// What end-to-end tests can rely on (stable hooks, kept in step with the modules of view/):
// - document.body.dataset.peer: this client's peer id ('' before the join and after leaving).
// - document.body.dataset.state: 'joining' | 'live' | 'reconnecting' | 'full' | 'left' | 'error'.
// - document.body.dataset.peers: the number of remote peers with a tile, as a string.
// - #tiles > figure.tile: one per participant. The own tile has data-self="true". A remote
//   tile has data-peer="ID" and data-state="<RTCPeerConnection connectionState>" ('new',
//   'connecting', 'connected', 'disconnected', 'failed'). Every tile has data-camera="on|off"
//   and data-mic="on|off" (for remote tiles as the peer reported them over the data channel).
// - #waiting: visible while nobody else is in the room; #room-link holds the link,
//   #copy-link copies it.
// - #status with data-kind: '' (hidden), 'reconnecting', 'full' (with #status-action
//   "Try again"), 'error', or a media problem: 'insecure', 'denied', 'nodevice', 'busy',
//   'other', or 'screen' (sharing the screen failed, other than by refusal). #status-text
//   holds the sentence.
// - Controls: #mic, #camera, #share (aria-pressed="true" while muted / camera off / sharing),
//   #devices (opens #devices-dialog with #camera-select and #mic-select), #chat-toggle,
//   #hangup. After hanging up, #ended is visible and #rejoin joins again.
// - Chat: #chat-input, #chat-send (disabled until a data channel is open), #chat-log with one
//   li.message per message, data-from="self" or the sender's peer id, text in .text.
//   The chat panel is open by default at 900 px and wider; #chat-toggle opens it otherwise.
// - window.webrtcCgi: read-only debugging info, fresh on every read:
//   { peerId, peers: Map<id, {connectionState, iceConnectionState, signalingState,
//     channelState, polite}>, transport, streams, polling, media }. `polling` is true once the
//     client found the host buffering held responses and switched to hold=0.
'use strict';

import { isValidRoom } from './net/protocol.js';
import { createCall } from './rtc/call.js';
import { createUi } from './view/ui.js';

function main() {
  const params = new URLSearchParams(location.search);
  const room = params.get('room') ?? '';
  const roomLink = `${location.origin}${location.pathname}?room=${encodeURIComponent(room)}`;
  const ui = createUi(document, { room, roomLink });

  if (!isValidRoom(room)) {
    ui.withoutCall('This link has no valid room name. Open the page without ?room= to get a new room.');
    return;
  }
  if (typeof RTCPeerConnection !== 'function') {
    ui.withoutCall('This browser cannot make video calls. Use a current Chrome, Firefox, Edge or Safari.');
    return;
  }

  const call = createCall({
    apiPath: location.pathname,
    room,
    view: ui.view,
    secure: window.isSecureContext,
    mediaDevices: navigator.mediaDevices,
    RTCPeerConnection,
    MediaStream,
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

main();
