// The call: it puts the parts together and gives the page one object to drive. The mesh
// (mesh.js) holds a connection per remote peer, local media (local-media.js) the microphone,
// camera and screen, the data channel (data-channel.js) chat and state notes, and the
// signaling transport (../net/signaling.js) the link to the executable. It owns only what
// spans them: the start, hang-up and rejoin sequence, the ICE configuration, and the spare
// connection made while the join is on its way. It reports through the `view` callbacks and
// never touches the DOM; browser objects (RTCPeerConnection, MediaStream, mediaDevices) are
// passed in.
'use strict';

import { createTransport } from '../net/signaling.js';
import { realTimers } from '../timers.js';
import { createChannels } from './data-channel.js';
import { createLocalMedia } from './local-media.js';
import { createMesh } from './mesh.js';
import { connectionSafetyCode } from './safety-code.js';

/** Why a link with a key does not join a room the server says is not sealed. */
const UNSEALED_WITH_KEY = 'This link is for a sealed room, but the server says the room is not sealed, so the call ' +
  'would not be protected. Open the site\u2019s address without a room to start a new sealed call.';

/**
 * Why this page must not take part in the room it joined, or null. Without the key it could
 * neither read nor send a message of a sealed room; with a key, a room the server says is not
 * sealed is one the host unsealed.
 * @param {boolean} roomSealed
 * @param {boolean} haveKey
 * @returns {{state: 'incomplete' | 'error', detail?: string} | null}
 */
function refusal(roomSealed, haveKey) {
  if (roomSealed && !haveKey) return { state: 'incomplete' };
  if (!roomSealed && haveKey) return { state: 'error', detail: UNSEALED_WITH_KEY };
  return null;
}

/**
 * @typedef {'idle' | 'joining' | 'live' | 'reconnecting' | 'full' | 'left' | 'error' | 'incomplete'} CallState
 */

/**
 * What the call reports. Every callback may be called at any time after start().
 * @typedef {object} CallView
 * @property {(peerId: string | null) => void} selfId
 * @property {(stream: MediaStream, flags: import('./local-media.js').MediaFlags & {hasAudio: boolean, hasVideo: boolean}) => void} localMedia
 * @property {(kind: string | null, text: string | null) => void} mediaNotice
 * @property {(state: CallState, detail?: string) => void} callState
 * @property {(peerId: string) => void} peerAdded
 * @property {(peerId: string) => void} peerRemoved
 * @property {(peerId: string, state: string) => void} peerConnectionState
 * @property {(peerId: string, stream: MediaStream) => void} peerStream
 * @property {(peerId: string, flags: import('./local-media.js').MediaFlags) => void} peerMedia
 * @property {(message: {from: string | null, text: string, at: number}) => void} chat
 * @property {(openChannels: number) => void} chatChannels
 * @property {(sealed: 'sealed' | 'unsealed') => void} sealing Whether this session's
 *   signaling is sealed, after each join.
 * @property {(reason: string) => void} tampered A message the host made or changed was dropped.
 * @property {(peerId: string, code: string) => void} peerSafetyCode
 */

/**
 * @typedef {object} CallOptions
 * @property {string} apiPath
 * @property {string} room
 * @property {CallView} view
 * @property {boolean} secure window.isSecureContext
 * @property {MediaDevices | undefined} mediaDevices
 * @property {typeof RTCPeerConnection} RTCPeerConnection
 * @property {typeof MediaStream} MediaStream
 * @property {import('../net/seal.js').Crypto | undefined} crypto WebCrypto (absent outside a
 *   secure context: then no safety code is shown).
 * @property {CryptoKey | null} key The sealed room's key from the link, if it has one.
 * @property {import('../net/signaling.js').TransportOptions['fetch']} [fetch] For tests.
 * @property {typeof EventSource} [EventSource] For tests.
 * @property {import('../timers.js').Timers} [timers] For tests.
 */

/**
 * @param {ReturnType<typeof createMesh>} mesh
 * @param {import('../net/signaling.js').Transport} transport
 * @param {ReturnType<typeof createLocalMedia>} media
 */
function debugSnapshot(mesh, transport, media) {
  return {
    peerId: mesh.selfId(),
    peers: mesh.snapshot(),
    transport: transport.state(),
    streams: transport.streams(),
    polling: transport.polling(),
    sealed: transport.sealed(),
    media: media.flags(),
    stats: mesh.stats,
  };
}

/**
 * @param {CallOptions} options
 */
export function createCall(options) {
  const { view } = options;
  const PeerConnection = options.RTCPeerConnection;
  const subtle = options.crypto?.subtle;
  const timers = options.timers ?? realTimers;
  /** @param {number} ms */
  const sleep = (ms) => new Promise((resolve) => { timers.setTimeout(resolve, ms); });

  /** @type {RTCConfiguration} */
  let rtcConfiguration = {};
  /** Counts starts and hang-ups, so that media opened for an earlier start is let go. */
  let session = 0;
  /**
   * A connection made while the join is on its way, for the first peer: creating one takes
   * the browser 10 to 20 ms of the page's time, which would otherwise fall between the join's
   * answer and the first offer.
   * @type {RTCPeerConnection | null}
   */
  let spare = null;

  /** @returns {RTCPeerConnection} */
  function newConnection() {
    const ready = spare;
    spare = null;
    if (ready) {
      try {
        // It was made before the join told which STUN and TURN servers to use.
        ready.setConfiguration(rtcConfiguration);
        return ready;
      } catch (error) {
        console.warn('setConfiguration:', error);
        ready.close();
      }
    }
    return new PeerConnection(rtcConfiguration);
  }

  const seal = options.key && options.crypto ? { crypto: options.crypto, key: options.key } : null;
  const transport = createTransport({
    apiPath: options.apiPath,
    room: options.room,
    fetch: options.fetch,
    EventSource: options.EventSource,
    timers: options.timers,
    seal,
    handlers: {
      joined(info) {
        const refused = refusal(info.sealed, Boolean(seal));
        if (refused) {
          transport.leave();
          view.callState(refused.state, refused.detail);
          return;
        }
        rtcConfiguration = { iceServers: info.iceServers, iceTransportPolicy: info.iceTransportPolicy };
        view.sealing(transport.sealed() ? 'sealed' : 'unsealed');
        mesh.joined(info.peer, info.peers);
      },
      tampered: (reason) => view.tampered(reason),
      message: (message) => mesh.handle(message),
      state: (state, detail) => view.callState(state, detail),
      gone: (peerId) => mesh.remove(peerId),
      iceServers(iceServers) {
        rtcConfiguration = { ...rtcConfiguration, iceServers };
        mesh.setConfiguration(rtcConfiguration);
      },
    },
  });
  const channels = createChannels({ view, localFlags: () => media.flags() });
  const media = createLocalMedia({
    secure: options.secure,
    mediaDevices: options.mediaDevices,
    MediaStream: options.MediaStream,
    view,
    sendTrack: (kind, track) => mesh.sendTrack(kind, track),
    announce: (flags) => channels.announce(flags),
  });
  const mesh = createMesh({
    view,
    post: (message) => transport.post(message),
    newConnection,
    newStream: () => new options.MediaStream(),
    localTracks: () => ({ audio: media.outgoing('audio'), video: media.outgoing('video'), stream: media.stream }),
    channels,
    safetyCode: subtle ? (pc) => connectionSafetyCode(pc, subtle, sleep) : undefined,
    negotiation: options.timers ? { timers: options.timers } : {},
  });

  return {
    /**
     * Joins and asks for media at the same time: the connections are set up while the
     * browser opens the camera (or waits for the person to allow it), and the tracks join
     * them when they are ready. Also used to rejoin after hang-up.
     */
    async start() {
      view.callState('joining');
      const pending = media.begin();
      session += 1;
      const mine = session;
      transport.start();
      spare ??= new PeerConnection(rtcConfiguration);
      await media.adopt(pending, () => mine === session);
    },

    /** Tries the join again after the room was full. */
    retryJoin() {
      transport.start();
    },

    hangUp() {
      session += 1;
      spare?.close();
      spare = null;
      transport.leave();
      mesh.leave();
      media.stopAll();
      media.report();
      view.selfId(null);
    },

    /** Leaves quietly when the page goes away. */
    leaveOnUnload() {
      if (transport.state() !== 'left') transport.leave();
    },

    /**
     * @param {string} text
     * @returns {boolean} Whether the message went to at least one peer.
     */
    sendChat: (text) => channels.sendChat(text),
    toggleMic: () => media.toggle('audio'),
    toggleCamera: () => media.toggle('video'),
    /**
     * @param {'audio' | 'video'} kind
     * @param {string} [deviceId]
     */
    enableDevice: (kind, deviceId) => media.enable(kind, deviceId),
    /**
     * @param {'audio' | 'video'} kind
     * @param {string} deviceId
     */
    chooseDevice: (kind, deviceId) => media.choose(kind, deviceId),
    toggleShare: () => media.toggleShare(),
    stopShare: () => media.stopShare(),
    /** @param {'audio' | 'video'} kind */
    currentDeviceId: (kind) => media.currentDeviceId(kind),
    flags: () => media.flags(),

    /** Read-only snapshot for debugging and end-to-end tests. */
    debug: () => debugSnapshot(mesh, transport, media),
  };
}
