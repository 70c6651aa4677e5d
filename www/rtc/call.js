// The call: it puts the parts together and gives the page one object to drive. The mesh
// (mesh.js) holds a connection per remote peer, local media (local-media.js) the microphone,
// camera and screen, the data channel (data-channel.js) chat and state notes, the file channel
// (file-channel.js) files, the monitor (../ux/monitor.js) who speaks, how each line is and the
// bitrate caps, the signaling transport (../net/signaling.js) the link to the executable, and
// connections.js the ICE configuration and the spare connection made while the join is on its
// way. It owns only what spans them: the start, hang-up and rejoin sequence, what the
// transport's reports do, and the name this side goes by. It reports through the `view` callbacks and never touches the DOM; browser objects
// (RTCPeerConnection, MediaStream, AudioContext, mediaDevices) are passed in.
'use strict';

import { createTransport } from '../net/signaling.js';
import { realTimers } from '../timers.js';
import { cleanName } from '../ux/display-name.js';
import { createCallMonitor, LEVEL_INTERVAL_MS } from '../ux/monitor.js';
import { createConnections } from './connections.js';
import { createChannels } from './data-channel.js';
import { createFileChannels } from './file-channel.js';
import { createLocalMedia } from './local-media.js';
import { followMicrophone } from './mic-level.js';
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
 * @property {(peerId: string, name: string) => void} peerName The name a peer goes by ('' for none).
 * @property {(state: import('../ux/speaker.js').SpeakerState) => void} speakers Who speaks; the own
 *   tile is ../ux/monitor.js's SELF.
 * @property {(shown: boolean) => void} mutedHint Whether to say "you are muted" (talking while muted).
 * @property {(peerId: string, line: import('../ux/quality.js').LineQuality) => void} peerQuality
 * @property {(peerId: string, transfer: import('../ux/files.js').Transfer) => void} fileTransfer
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
 * @property {typeof AudioContext} [AudioContext] For the own microphone's level; without it the
 *   own tile is never shown speaking.
 * @property {number} [uplinkBudget] The total video bitrate to send, bits per second.
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
    quiet: transport.quiet(),
    doorkeeper: mesh.doorkeeper(),
    sealed: transport.sealed(),
    media: media.flags(),
    stats: mesh.stats,
  };
}

/**
 * The parts of a call, as createCall puts them together.
 * @typedef {object} CallParts
 * @property {CallView} view
 * @property {import('../net/signaling.js').Transport} transport
 * @property {ReturnType<typeof createMesh>} mesh
 * @property {ReturnType<typeof createLocalMedia>} media
 * @property {import('./data-channel.js').Channels} channels
 * @property {ReturnType<typeof createFileChannels>} files
 * @property {ReturnType<typeof createCallMonitor>} monitor
 * @property {ReturnType<typeof followMicrophone>} microphone
 * @property {import('./connections.js').Connections} connections
 * @property {{name: string}} local The name this side goes by.
 */

/**
 * What the signaling transport reports, and what the call does with it.
 * @param {() => CallParts} parts Read once the parts exist (the transport is made first).
 * @param {{crypto: import('../net/seal.js').Crypto, key: CryptoKey} | null} seal
 * @returns {import('../net/signaling.js').TransportOptions['handlers']}
 */
function transportHandlers(parts, seal) {
  return {
    joined(info) {
      const { view, transport, mesh, connections } = parts();
      const refused = refusal(info.sealed, Boolean(seal));
      if (refused) {
        transport.leave();
        view.callState(refused.state, refused.detail);
        return;
      }
      connections.configure({ iceServers: info.iceServers, iceTransportPolicy: info.iceTransportPolicy });
      view.sealing(transport.sealed() ? 'sealed' : 'unsealed');
      mesh.joined(info.peer, info.peers);
    },
    tampered: (reason) => parts().view.tampered(reason),
    message: (message) => parts().mesh.handle(message),
    state: (state, detail) => parts().view.callState(state, detail),
    gone: (peerId) => parts().mesh.remove(peerId),
    iceServers(iceServers) {
      const { mesh, connections } = parts();
      mesh.setConfiguration(connections.renewIceServers(iceServers));
    },
  };
}

/**
 * The channels the mesh attaches to each connection: chat, and the file channel, which opens
 * and closes with it.
 * @param {import('./data-channel.js').Channels} channels
 * @param {ReturnType<typeof createFileChannels>} files
 * @returns {import('./data-channel.js').Channels}
 */
function meshChannels(channels, files) {
  return {
    ...channels,
    attach(peerId, pc) {
      files.attach(peerId, pc);
      return channels.attach(peerId, pc);
    },
    detach(peerId) {
      files.detach(peerId);
      channels.detach(peerId);
    },
  };
}

/**
 * Start, rejoin and hang-up.
 * @param {CallParts} parts
 */
function sessionControls(parts) {
  const { view, transport, mesh, media, monitor, microphone, connections } = parts;
  /** Counts starts and hang-ups, so that media opened for an earlier start is let go. */
  let session = 0;
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
      connections.prepareSpare();
      monitor.start();
      await media.adopt(pending, () => mine === session);
    },

    /** Tries the join again after the room was full. */
    retryJoin() {
      transport.start();
    },

    hangUp() {
      session += 1;
      connections.dropSpare();
      // "I am leaving" goes over the channels, so the others need not hear it from the host.
      mesh.leaving();
      transport.leave();
      mesh.leave();
      monitor.stop();
      microphone.stop();
      // Nobody speaks in a call that has ended.
      view.speakers({ speaking: new Set(), active: null, recent: null });
      view.mutedHint(false);
      media.stopAll();
      media.report();
      view.selfId(null);
    },

    /** Leaves quietly when the page goes away. */
    leaveOnUnload() {
      if (transport.state() === 'left') return;
      mesh.leaving();
      transport.leave();
    },
  };
}

/**
 * Chat, files, the name, and the media controls.
 * @param {CallParts} parts
 */
function userControls(parts) {
  const { channels, files, media, monitor, microphone, local } = parts;
  return {
    /**
     * @param {string} text
     * @returns {boolean} Whether the message went to at least one peer.
     */
    sendChat: (text) => channels.sendChat(text),
    /**
     * Sends a file to one peer, or to everyone when `to` is ''.
     * @param {File} file
     * @param {string} to
     * @returns {number} How many peers it is going to.
     */
    sendFile: (file, to) => files.send(file, to),
    /**
     * Goes by a new name from now on, and tells every peer.
     * @param {string} name
     * @returns {string} The name as cleaned.
     */
    setName(name) {
      local.name = cleanName(name);
      channels.announce(media.flags());
      return local.name;
    },
    /**
     * Changes the total video bitrate this side sends (split between the peers).
     * @param {number} bits
     */
    setUplinkBudget: (bits) => monitor.setBudget(bits),
    /** Lets the own microphone's meter start (browsers hold audio until a gesture). */
    resumeAudio: () => microphone.resume(),
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
  const connections = createConnections(PeerConnection);
  const local = { name: '' };

  const seal = options.key && options.crypto ? { crypto: options.crypto, key: options.key } : null;
  const transport = createTransport({
    apiPath: options.apiPath,
    room: options.room,
    fetch: options.fetch,
    EventSource: options.EventSource,
    timers: options.timers,
    seal,
    handlers: transportHandlers(() => parts, seal),
  });
  const channels = createChannels({
    view,
    localFlags: () => media.flags(),
    localName: () => local.name,
    onMessage: (peerId, text) => mesh.fromChannel(peerId, text),
    onChange: (peerId) => mesh.channelChanged(peerId),
  });
  const files = createFileChannels({ view });
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
    newConnection: () => connections.newConnection(),
    newStream: () => new options.MediaStream(),
    localTracks: () => ({ audio: media.outgoing('audio'), video: media.outgoing('video'), stream: media.stream }),
    channels: meshChannels(channels, files),
    safetyCode: subtle ? (pc) => connectionSafetyCode(pc, subtle, sleep) : undefined,
    negotiation: options.timers ? { timers: options.timers } : {},
    economy: {
      capable: () => typeof PeerConnection.prototype?.createDataChannel === 'function' && !transport.polling(),
      busy: () => transport.busy(),
      setQuiet: (quiet) => transport.setQuiet(quiet),
    },
  });

  const browserAudio = { AudioContext: options.AudioContext, MediaStream: options.MediaStream };
  const microphone = followMicrophone(browserAudio, () => media.outgoing('audio'), LEVEL_INTERVAL_MS);
  const monitor = createCallMonitor({
    peers: () => mesh.connections(),
    localLevel: () => microphone.level(),
    micOn: () => media.flags().mic,
    content: () => (media.flags().sharing ? 'screen' : 'camera'),
    budget: options.uplinkBudget,
    onSpeakers: (state) => view.speakers(state),
    onMutedHint: (shown) => view.mutedHint(shown),
    onQuality: (peerId, line) => view.peerQuality(peerId, line),
  });
  /** @type {CallParts} */
  const parts = { view, transport, mesh, media, channels, files, monitor, microphone, connections, local };

  return {
    ...sessionControls(parts),
    ...userControls(parts),
    /** Read-only snapshot for debugging and end-to-end tests. */
    debug: () => ({ ...debugSnapshot(mesh, transport, media), name: local.name, bitratePlans: monitor.plans() }),
  };
}
