// Test doubles shared by the client tests: a manual clock, and a fake RTCPeerConnection that
// models only the signaling state machine (offer/answer, implicit rollback, candidates) that
// the negotiation module relies on, and a mesh set up on them. No media, no network.

import { createChannels } from '../../www/rtc/data-channel.js';
import { createMesh } from '../../www/rtc/mesh.js';

/** A clock that moves only when a test says so. */
export function fakeTimers() {
  let now = 0;
  let seq = 0;
  /** @type {Map<number, {at: number, fn: () => void}>} */
  const pending = new Map();
  return {
    setTimeout(fn, ms) {
      seq += 1;
      pending.set(seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    /** Runs every timer due within the next `ms` milliseconds, in time order. */
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...pending.entries()]
          .filter(([, t]) => t.at <= end)
          .sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
        if (due.length === 0) break;
        const [id, timer] = due[0];
        pending.delete(id);
        now = timer.at;
        timer.fn();
      }
      now = end;
    },
    now: () => now,
    pendingCount: () => pending.size,
  };
}

export const flushMicrotasks = () => new Promise((resolve) => setImmediate(resolve));

/** Enough of RTCPeerConnection for perfect negotiation. */
export class FakePeerConnection extends EventTarget {
  constructor(name) {
    super();
    this.name = name;
    this.signalingState = 'stable';
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.localDescription = null;
    this.remoteDescription = null;
    this.addedCandidates = [];
    this.restartIceCalls = 0;
    this.offers = 0;
    this.rolledBack = 0;
    this.needsNegotiationAfterRollback = false;
    /** Test helper: make setRemoteDescription refuse every answer. */
    this.refuseAnswers = false;
  }

  async setLocalDescription(description) {
    if (description?.type === 'rollback' && this.signalingState === 'have-local-offer') {
      await null;
      this.rolledBack += 1;
      this.signalingState = 'stable';
      return;
    }
    if (description !== undefined) throw new Error('expected setLocalDescription() without arguments');
    await null;
    if (this.signalingState === 'have-remote-offer') {
      this.localDescription = { type: 'answer', sdp: `${this.name} answers ${this.remoteDescription.sdp}` };
      this.signalingState = 'stable';
      if (this.needsNegotiationAfterRollback) {
        // A browser fires negotiationneeded again when changes rolled back are still pending.
        this.needsNegotiationAfterRollback = false;
        queueMicrotask(() => this.dispatchEvent(new Event('negotiationneeded')));
      }
      return;
    }
    if (this.signalingState === 'stable') {
      this.offers += 1;
      this.localDescription = { type: 'offer', sdp: `${this.name} offer ${this.offers}` };
      this.signalingState = 'have-local-offer';
      return;
    }
    throw new Error(`setLocalDescription in ${this.signalingState}`);
  }

  async setRemoteDescription(description) {
    await null;
    if (description.type === 'offer') {
      if (this.signalingState === 'have-local-offer') {
        this.rolledBack += 1;
        this.needsNegotiationAfterRollback = true;
      } else if (this.signalingState !== 'stable') {
        throw new Error(`offer in ${this.signalingState}`);
      }
      this.remoteDescription = description;
      this.signalingState = 'have-remote-offer';
      return;
    }
    if (description.type === 'answer') {
      if (this.refuseAnswers) {
        // As Chrome refuses an answer that flips the DTLS role.
        throw new Error('OperationError: Failed to set SSL role for the transport');
      }
      if (this.signalingState !== 'have-local-offer') {
        throw new Error(`InvalidStateError: answer in ${this.signalingState}`);
      }
      this.remoteDescription = description;
      this.signalingState = 'stable';
      return;
    }
    throw new Error(`unexpected description type ${description.type}`);
  }

  async addIceCandidate(candidate) {
    await null;
    if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
    this.addedCandidates.push(candidate);
  }

  restartIce() {
    this.restartIceCalls += 1;
    queueMicrotask(() => this.dispatchEvent(new Event('negotiationneeded')));
  }

  /** Test helper: pretend the browser wants to (re)negotiate, e.g. after addTrack. */
  needNegotiation() {
    this.dispatchEvent(new Event('negotiationneeded'));
  }

  /** Test helper: pretend ICE gathered a candidate. */
  gather(candidate) {
    const event = new Event('icecandidate');
    event.candidate = candidate === null ? null : { toJSON: () => candidate };
    this.dispatchEvent(event);
  }

  /** Test helper: move the connection to `state`. */
  setConnectionState(state) {
    this.connectionState = state;
    this.dispatchEvent(new Event('connectionstatechange'));
  }
}

/**
 * Two signaling channels joined back to back. Messages wait in an inbox until the test
 * delivers them, so a test can make both sides act "at the same time".
 */
export function channelPair() {
  const a = { sent: [], inbox: [], onmessage: null, send: null };
  const b = { sent: [], inbox: [], onmessage: null, send: null };
  a.send = (message) => {
    a.sent.push(message);
    b.inbox.push(structuredClone(message));
  };
  b.send = (message) => {
    b.sent.push(message);
    a.inbox.push(structuredClone(message));
  };
  /** Delivers every waiting message (and those they cause) until both inboxes stay empty. */
  async function settle() {
    for (let round = 0; round < 100; round += 1) {
      await flushMicrotasks();
      if (a.inbox.length === 0 && b.inbox.length === 0) {
        await flushMicrotasks();
        if (a.inbox.length === 0 && b.inbox.length === 0) return;
      }
      while (a.inbox.length > 0) await a.onmessage(a.inbox.shift());
      while (b.inbox.length > 0) await b.onmessage(b.inbox.shift());
    }
    throw new Error('signaling never settled');
  }
  return { a, b, settle };
}

/** Enough of RTCDataChannel for the chat channel: a state, sent messages, open/close. */
export class FakeDataChannel extends EventTarget {
  constructor(label, init) {
    super();
    this.label = label;
    this.init = init;
    this.readyState = 'connecting';
    this.sent = [];
  }
  send(text) {
    if (this.readyState !== 'open') throw new Error(`InvalidStateError: send in ${this.readyState}`);
    this.sent.push(text);
  }
  close() {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.dispatchEvent(new Event('close'));
  }
  /** Test helper: the channel opens. */
  open() {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
  /** Test helper: a message from the peer arrives. */
  receive(data) {
    const event = new Event('message');
    event.data = data;
    this.dispatchEvent(event);
  }
}

/** A sender that remembers its track. */
export class FakeSender {
  constructor(track) {
    this.track = track;
  }
  async replaceTrack(track) {
    this.track = track;
  }
}

/** A stream that only keeps a list of tracks. */
export class FakeMediaStream {
  constructor() {
    this.tracks = [];
  }
  getTracks() {
    return [...this.tracks];
  }
  addTrack(track) {
    this.tracks.push(track);
  }
  removeTrack(track) {
    this.tracks = this.tracks.filter((t) => t !== track);
  }
}

/**
 * A FakePeerConnection with what the mesh adds to a connection: transceivers and tracks (as
 * FakeSenders), the chat data channel, configuration and close.
 */
export class FakeMeshConnection extends FakePeerConnection {
  constructor(name, configuration = {}) {
    super(name);
    this.configuration = configuration;
    this.senders = [];
    this.channels = [];
    this.closed = false;
  }
  addTransceiver(trackOrKind, init) {
    const sender = new FakeSender(typeof trackOrKind === 'string' ? null : trackOrKind);
    this.senders.push({ sender, kind: typeof trackOrKind === 'string' ? trackOrKind : trackOrKind.kind, init });
    return { sender };
  }
  addTrack(track, stream) {
    const sender = new FakeSender(track);
    this.senders.push({ sender, kind: track.kind, stream });
    return sender;
  }
  createDataChannel(label, init) {
    const channel = new FakeDataChannel(label, init);
    this.channels.push(channel);
    return channel;
  }
  setConfiguration(configuration) {
    if (this.closed) throw new Error('InvalidStateError: closed');
    this.configuration = configuration;
  }
  close() {
    this.closed = true;
    this.signalingState = 'closed';
  }
}

/** A view that records every call as [name, ...arguments]. */
export function recordingView() {
  const calls = [];
  const view = new Proxy({}, { get: (_, name) => (...args) => calls.push([name, ...args]) });
  return { view, calls, named: (name) => calls.filter((call) => call[0] === name).map((call) => call.slice(1)) };
}

/**
 * A mesh on fake connections, with a recording view, the posts it makes, the connections it
 * made, its negotiation errors and its fake clock.
 */
export function meshSetup(options = {}) {
  const timers = fakeTimers();
  const { view, calls, named } = recordingView();
  const posts = [];
  const connections = [];
  const errors = [];
  const stream = new FakeMediaStream();
  const local = { audio: options.audio ?? null, video: options.video ?? null, stream };
  const channels = createChannels({
    view,
    localFlags: () => ({ mic: true, camera: true, sharing: false }),
    onMessage: (peerId, text) => mesh.fromChannel(peerId, text),
    onChange: (peerId) => mesh.channelChanged(peerId),
  });
  const mesh = createMesh({
    view,
    post: (message) => posts.push(structuredClone(message)),
    newConnection: () => {
      const pc = new FakeMeshConnection(`pc${connections.length + 1}`);
      connections.push(pc);
      return pc;
    },
    newStream: () => new FakeMediaStream(),
    localTracks: () => local,
    channels,
    safetyCode: options.safetyCode,
    negotiation: { timers, onError: (error) => errors.push(error) },
    economy: options.economy,
  });
  return { mesh, view, calls, named, posts, connections, errors, timers, local };
}
