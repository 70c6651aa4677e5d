// The call: one RTCPeerConnection per remote peer (a full mesh), wired to the signaling
// transport, to perfect negotiation and to the local camera, microphone and screen. It owns
// which tracks are sent, the chat data channels and the life of each connection; it reports
// everything the page shows through the `view` callbacks and never touches the DOM itself.
// Browser objects (RTCPeerConnection, MediaStream, mediaDevices) are passed in.
'use strict';

import { encodeChat, encodeState, parsePeerMessage, cleanChatText } from './chat.js';
import { openLocalMedia, openScreen, openTrack, classifyMediaError, describeMediaProblem } from './media.js';
import { connectionStateOf, isPolite, negotiate } from './negotiation.js';
import { createTransport } from '../net/signaling.js';

/** The chat channel is negotiated out of band: both sides create it with this id. */
const CHAT_CHANNEL_ID = 0;

/**
 * @typedef {{mic: boolean, camera: boolean, sharing: boolean}} MediaFlags
 * @typedef {'idle' | 'joining' | 'live' | 'reconnecting' | 'full' | 'left' | 'error'} CallState
 */

/**
 * What the call reports. Every callback may be called at any time after start().
 * @typedef {object} CallView
 * @property {(peerId: string | null) => void} selfId
 * @property {(stream: MediaStream, flags: MediaFlags & {hasAudio: boolean, hasVideo: boolean}) => void} localMedia
 * @property {(kind: string | null, text: string | null) => void} mediaNotice
 * @property {(state: CallState, detail?: string) => void} callState
 * @property {(peerId: string) => void} peerAdded
 * @property {(peerId: string) => void} peerRemoved
 * @property {(peerId: string, state: string) => void} peerConnectionState
 * @property {(peerId: string, stream: MediaStream) => void} peerStream
 * @property {(peerId: string, flags: MediaFlags) => void} peerMedia
 * @property {(message: {from: string | null, text: string, at: number}) => void} chat
 * @property {(openChannels: number) => void} chatChannels
 */

/**
 * @typedef {object} RemotePeer
 * @property {string} id
 * @property {RTCPeerConnection} pc
 * @property {import('./negotiation.js').Negotiator} negotiator
 * @property {import('./negotiation.js').SignalingChannel} signaling
 * @property {RTCDataChannel} channel
 * @property {MediaStream} stream
 * @property {{audio: RTCRtpSender | null, video: RTCRtpSender | null}} senders
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
 */

/**
 * @param {CallOptions} options
 */
export function createCall(options) {
  const { view, mediaDevices } = options;
  const PeerConnection = options.RTCPeerConnection;

  /** @type {Map<string, RemotePeer>} */
  const peers = new Map();
  /** @type {RTCConfiguration} */
  let rtcConfiguration = {};
  /** @type {string | null} */
  let selfId = null;

  // The stream the tracks are announced in (so a peer's ontrack groups them), kept apart from
  // the one the self view plays, which changes as devices come and go.
  const localStream = new options.MediaStream();
  const selfView = new options.MediaStream();
  /** @type {MediaStreamTrack | null} */
  let micTrack = null;
  /** @type {MediaStreamTrack | null} */
  let cameraTrack = null;
  /** @type {MediaStreamTrack | null} */
  let screenTrack = null;
  let micOn = true;
  let cameraOn = true;
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

  const transport = createTransport({
    apiPath: options.apiPath,
    room: options.room,
    handlers: {
      joined(info) {
        removeAllPeers();
        rtcConfiguration = { iceServers: info.iceServers, iceTransportPolicy: info.iceTransportPolicy };
        selfId = info.peer;
        view.selfId(selfId);
        // The newcomer connects to everyone already there; they answer. Were both sides to
        // offer at once, perfect negotiation would sort it out, but the rollback it needs can
        // stall ICE gathering in some browsers, so the first offer comes from one side only.
        for (const id of info.peers) addPeer(id, { offering: true });
      },
      message(message) {
        const from = message.from;
        if (message.type === 'join') {
          // The newcomer sends the first offer. The connection is set up now, ahead of it, so
          // that the offer finds everything ready.
          addPeer(from);
        } else if (message.type === 'leave') {
          removePeer(from);
        } else if (message.type === 'reset') {
          // The other side gave up on this connection and starts a fresh one.
          dropConnection(from);
          addPeer(from);
        } else if (message.type === 'description' || message.type === 'candidates') {
          // Also covers a peer whose join event this client never saw (it joined under a new
          // id while this client's stream was down): it is a peer all the same.
          // Candidates alone cannot start a connection; they belong to an offer that comes first.
          const peer = peers.get(from) ?? (message.type === 'description' ? addPeer(from) : null);
          peer?.signaling.onmessage?.(/** @type {any} */ ({ type: message.type, data: message.data }));
        }
      },
      state(state, detail) {
        view.callState(state, detail);
      },
      gone(peerId) {
        removePeer(peerId);
      },
      iceServers(iceServers) {
        rtcConfiguration = { ...rtcConfiguration, iceServers };
        for (const peer of peers.values()) {
          try {
            peer.pc.setConfiguration(rtcConfiguration);
          } catch (error) {
            console.warn('setConfiguration:', error);
          }
        }
      },
    },
  });

  /** @returns {MediaFlags} */
  function flags() {
    return { mic: Boolean(micTrack) && micOn, camera: Boolean(cameraTrack) && cameraOn, sharing: Boolean(screenTrack) };
  }

  function outgoingVideo() {
    return screenTrack ?? cameraTrack;
  }

  function reportLocal() {
    const video = outgoingVideo();
    // Only video goes to the self view: playing one's own microphone would echo.
    for (const track of selfView.getTracks()) if (track !== video) selfView.removeTrack(track);
    if (video && !selfView.getTracks().includes(video)) selfView.addTrack(video);
    view.localMedia(selfView, { ...flags(), hasAudio: Boolean(micTrack), hasVideo: Boolean(video) });
    broadcast(encodeState(flags()));
  }

  /** @param {string} text */
  function broadcast(text) {
    let sent = 0;
    for (const peer of peers.values()) {
      if (peer.channel.readyState !== 'open') continue;
      try {
        peer.channel.send(text);
        sent += 1;
      } catch {
        // A channel closing at this very moment; that peer is on its way out.
      }
    }
    return sent;
  }

  function reportChannels() {
    let open = 0;
    for (const peer of peers.values()) if (peer.channel.readyState === 'open') open += 1;
    view.chatChannels(open);
  }

  /**
   * @param {string} id
   * @param {{offering?: boolean}} [how] offering: this side makes the first offer; otherwise
   *   it waits for the other side's.
   * @returns {RemotePeer | null}
   */
  function addPeer(id, how = {}) {
    if (!selfId || id === selfId) return null;
    const existing = peers.get(id);
    if (existing) return existing;

    const pc = newConnection();
    /** @type {import('./negotiation.js').SignalingChannel} */
    const signaling = {
      send: (message) => transport.post({ to: id, type: message.type, data: message.data }),
      onmessage: null,
    };
    const polite = isPolite(selfId, id);
    const negotiator = negotiate({
      pc,
      polite,
      signaling,
      waitForOffer: !how.offering,
      // A connection that an ICE restart did not bring up is started afresh. Only the impolite
      // side does that, so the two sides never replace the connection at the same time.
      onStuck: polite ? undefined : () => resetPeer(id),
    });
    const channel = pc.createDataChannel('chat', { negotiated: true, id: CHAT_CHANNEL_ID });
    /** @type {RemotePeer} */
    const peer = {
      id,
      pc,
      negotiator,
      signaling,
      channel,
      stream: new options.MediaStream(),
      senders: { audio: null, video: null },
    };
    peers.set(id, peer);
    view.peerAdded(id);

    const video = outgoingVideo();
    if (how.offering) {
      // The offer goes out at once, camera and microphone ready or not: a track that comes
      // later takes its place in the sender with replaceTrack, which needs no new offer.
      const init = { direction: /** @type {const} */ ('sendrecv'), streams: [localStream] };
      peer.senders.audio = pc.addTransceiver(micTrack ?? 'audio', init).sender;
      peer.senders.video = pc.addTransceiver(video ?? 'video', init).sender;
    } else {
      // The answering side adds tracks before the offer is applied, so that the offer's
      // sections take them up (a transceiver added on its own would need another offer).
      if (micTrack) peer.senders.audio = pc.addTrack(micTrack, localStream);
      if (video) peer.senders.video = pc.addTrack(video, localStream);
    }

    pc.addEventListener('track', (event) => {
      if (peers.get(id) !== peer) return;
      if (!peer.stream.getTracks().includes(event.track)) peer.stream.addTrack(event.track);
      view.peerStream(id, peer.stream);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (peers.get(id) === peer) view.peerConnectionState(id, connectionStateOf(pc));
    });
    pc.addEventListener('iceconnectionstatechange', () => {
      if (peers.get(id) === peer) view.peerConnectionState(id, connectionStateOf(pc));
    });
    channel.addEventListener('open', () => {
      channel.send(encodeState(flags()));
      reportChannels();
    });
    channel.addEventListener('close', reportChannels);
    channel.addEventListener('message', (event) => {
      if (peers.get(id) !== peer) return;
      const note = parsePeerMessage(event.data);
      if (!note) return;
      if (note.kind === 'chat') view.chat({ from: id, text: note.text, at: Date.now() });
      else view.peerMedia(id, { mic: note.mic, camera: note.camera, sharing: note.sharing });
    });
    view.peerConnectionState(id, connectionStateOf(pc));
    if (how.offering) negotiator.offer();
    return peer;
  }

  /**
   * Closes the connection to a peer but keeps its tile.
   * @param {string} id
   */
  function dropConnection(id) {
    const peer = peers.get(id);
    if (!peer) return;
    peers.delete(id);
    peer.negotiator.close();
    peer.channel.close();
    peer.pc.close();
    reportChannels();
  }

  /** @param {string} id */
  function removePeer(id) {
    const known = peers.has(id);
    dropConnection(id);
    if (known) view.peerRemoved(id);
  }

  function removeAllPeers() {
    for (const id of [...peers.keys()]) removePeer(id);
  }

  /**
   * Replaces a connection that could not be repaired with a new one. The peer is told first,
   * so that it drops its end too and answers the new offer with a fresh connection.
   * @param {string} id
   */
  function resetPeer(id) {
    if (!peers.has(id)) return;
    dropConnection(id);
    transport.post({ to: id, type: 'reset' });
    addPeer(id, { offering: true });
  }

  /**
   * Sends `track` (or nothing) as this kind to every peer. replaceTrack needs no renegotiation;
   * a peer that had no sender of this kind gets one added, which renegotiates by itself.
   * @param {'audio' | 'video'} kind
   * @param {MediaStreamTrack | null} track
   */
  async function sendTrack(kind, track) {
    const work = [];
    for (const peer of peers.values()) {
      const sender = peer.senders[kind];
      if (sender) work.push(sender.replaceTrack(track).catch((error) => console.warn('replaceTrack:', error)));
      else if (track) peer.senders[kind] = peer.pc.addTrack(track, localStream);
    }
    await Promise.all(work);
  }

  /** @param {import('./media.js').MediaProblem | null} problem */
  function noticeMedia(problem) {
    const text = describeMediaProblem(problem, { audio: Boolean(micTrack), video: Boolean(cameraTrack) });
    view.mediaNotice(problem, text);
  }

  function stopLocalTracks() {
    for (const track of [micTrack, cameraTrack, screenTrack]) track?.stop();
    micTrack = null;
    cameraTrack = null;
    screenTrack = null;
  }

  return {
    /**
     * Joins and asks for media at the same time: the connections are set up while the
     * browser opens the camera (or waits for the person to allow it), and the tracks join
     * them when they are ready. Also used to rejoin after hang-up.
     */
    async start() {
      view.callState('joining');
      micOn = true;
      cameraOn = true;
      session += 1;
      const mine = session;
      const media = options.secure ? openLocalMedia(mediaDevices) : null;
      transport.start();
      spare ??= new PeerConnection(rtcConfiguration);
      if (!media) {
        noticeMedia('insecure');
      } else {
        const opened = await media;
        if (mine !== session) {
          // Hung up while the camera was opening.
          opened.audio?.stop();
          opened.video?.stop();
          return;
        }
        micTrack = opened.audio;
        cameraTrack = opened.video;
        noticeMedia(opened.problem);
        await Promise.all([sendTrack('audio', micTrack), sendTrack('video', outgoingVideo())]);
      }
      reportLocal();
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
      removeAllPeers();
      stopLocalTracks();
      reportLocal();
      selfId = null;
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
    sendChat(text) {
      const clean = cleanChatText(text);
      if (!clean) return false;
      const sent = broadcast(encodeChat(clean));
      if (sent > 0) view.chat({ from: null, text: clean, at: Date.now() });
      return sent > 0;
    },

    /** @returns {Promise<void>} */
    async toggleMic() {
      if (!micTrack) {
        await this.enableDevice('audio');
        return;
      }
      micOn = !micOn;
      micTrack.enabled = micOn;
      reportLocal();
    },

    /** @returns {Promise<void>} */
    async toggleCamera() {
      if (!cameraTrack) {
        await this.enableDevice('video');
        return;
      }
      // A disabled track sends black frames and keeps the connection's shape unchanged; the
      // state note tells the others to show an avatar instead.
      cameraOn = !cameraOn;
      cameraTrack.enabled = cameraOn;
      reportLocal();
    },

    /**
     * Opens a device that was missing at start (plugged in later, or allowed later).
     * @param {'audio' | 'video'} kind
     * @param {string} [deviceId]
     */
    async enableDevice(kind, deviceId) {
      if (!options.secure || !mediaDevices) {
        noticeMedia('insecure');
        return;
      }
      try {
        const track = await openTrack(mediaDevices, kind, deviceId);
        if (kind === 'audio') {
          micTrack = track;
          micOn = true;
          await sendTrack('audio', track);
        } else {
          cameraTrack = track;
          cameraOn = true;
          if (!screenTrack) await sendTrack('video', track);
        }
        noticeMedia(null);
      } catch (error) {
        noticeMedia(classifyMediaError(error));
      }
      reportLocal();
    },

    /**
     * Switches to another camera or microphone. The old track is stopped first because phones
     * cannot open two cameras at once.
     * @param {'audio' | 'video'} kind
     * @param {string} deviceId
     */
    async chooseDevice(kind, deviceId) {
      const old = kind === 'audio' ? micTrack : cameraTrack;
      if (old?.getSettings?.().deviceId === deviceId) return;
      const wasOn = kind === 'audio' ? micOn : cameraOn;
      old?.stop();
      if (kind === 'audio') micTrack = null;
      else cameraTrack = null;
      await this.enableDevice(kind, deviceId);
      const track = kind === 'audio' ? micTrack : cameraTrack;
      if (track && !wasOn) {
        if (kind === 'audio') micOn = false;
        else cameraOn = false;
        track.enabled = false;
        reportLocal();
      }
    },

    /** Starts or stops sending the screen instead of the camera. */
    async toggleShare() {
      if (screenTrack) {
        await this.stopShare();
        return;
      }
      if (!mediaDevices) return;
      let track;
      try {
        track = await openScreen(mediaDevices);
      } catch (error) {
        // Cancelling the browser's picker is a NotAllowedError too, and needs no message.
        if (classifyMediaError(error) !== 'denied') console.warn('getDisplayMedia:', error);
        return;
      }
      screenTrack = track;
      // The browser's own "Stop sharing" button ends the track without asking this page.
      track.addEventListener('ended', () => {
        if (screenTrack === track) this.stopShare();
      });
      await sendTrack('video', track);
      reportLocal();
    },

    async stopShare() {
      const track = screenTrack;
      if (!track) return;
      screenTrack = null;
      track.stop();
      await sendTrack('video', cameraTrack);
      reportLocal();
    },

    /** @param {'audio' | 'video'} kind */
    currentDeviceId(kind) {
      const track = kind === 'audio' ? micTrack : cameraTrack;
      return track?.getSettings?.().deviceId ?? null;
    },

    flags,

    /** Read-only snapshot for debugging and end-to-end tests. */
    debug() {
      const snapshot = new Map();
      for (const [id, peer] of peers) {
        snapshot.set(id, {
          connectionState: connectionStateOf(peer.pc),
          iceConnectionState: peer.pc.iceConnectionState,
          signalingState: peer.pc.signalingState,
          channelState: peer.channel.readyState,
          polite: selfId ? isPolite(selfId, id) : null,
        });
      }
      return {
        peerId: selfId,
        peers: snapshot,
        transport: transport.state(),
        streams: transport.streams(),
        polling: transport.polling(),
        media: flags(),
      };
    },
  };
}
