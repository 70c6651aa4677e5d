// When a connection's ICE is restarted: at once on the leading side when it fails, after a
// grace period on the other side (so the two restart offers do not collide), when
// "disconnected" lasts, and when a connection never comes up at all; after a restart that did
// not help, the owner may replace the connection instead (onStuck), and a failed DTLS
// transport, which no restart repairs, is the owner's to replace at once (onTransportFailed). Part of perfect
// negotiation (negotiation.js starts it with the same options); it only watches the
// connection's state and calls restartIce.
'use strict';

/**
 * The state used for restart decisions. Browsers without `connectionState` (older Firefox)
 * still report the ICE state, which carries the same failed / disconnected information.
 * @param {RTCPeerConnection} pc
 * @returns {string}
 */
export function connectionStateOf(pc) {
  return pc.connectionState ?? pc.iceConnectionState;
}

/**
 * Whether one of the connection's DTLS transports failed. An ICE restart cannot repair that:
 * Firefox, having answered the first offer, can fail its DTLS transport with its own restart
 * offer (Chrome on the other side), and its data channel closes with it.
 * @param {RTCPeerConnection} pc
 * @returns {boolean}
 */
export function dtlsFailed(pc) {
  const transports = [pc.sctp?.transport, ...(pc.getSenders?.() ?? []).map((sender) => sender.transport)];
  return transports.some((transport) => transport?.state === 'failed');
}

/** @param {string} state */
function isUp(state) {
  return state === 'connected' || state === 'completed';
}

/**
 * @typedef {object} IceRestartOptions
 * @property {RTCPeerConnection} pc
 * @property {boolean} leads This side restarts first (see NegotiatorOptions.leadsRestarts).
 * @property {import('../timers.js').Timers} timers
 * @property {number} [disconnectedGraceMs]
 * @property {number} [failedGraceMs]
 * @property {number} [connectTimeoutMs]
 * @property {() => void} [onStuck]
 * @property {() => void} [onTransportFailed] Called instead of a restart when a DTLS
 *   transport failed (see dtlsFailed).
 * @property {() => boolean} isClosed Whether the negotiator was closed.
 */

/**
 * Watches `pc` and arms the connect timer at once. See NegotiatorOptions for the delays.
 * @param {IceRestartOptions} options
 */
export function createIceRestarts(options) {
  const { pc, leads, timers } = options;
  const disconnectedGraceMs = options.disconnectedGraceMs ?? 4000;
  const failedGraceMs = options.failedGraceMs ?? 3000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 15000;
  let restarts = 0;
  /** @type {unknown} */
  let restartTimer = null;
  /** @type {unknown} */
  let connectTimer = null;

  function restartIce() {
    if (options.isClosed()) return;
    restarts += 1;
    pc.restartIce();
    armConnectTimer();
  }

  /** @param {unknown} handle */
  function clear(handle) {
    if (handle !== null) timers.clearTimeout(handle);
  }

  // Both sides notice a failure at about the same moment. If both restarted at once, their
  // restart offers would collide, and a rollback while ICE is gathering can leave a browser's
  // gatherer stuck. So the leading side acts first and the other only steps in when the
  // leader has not managed (its offer would have moved the state on by then).
  const followerFactor = leads ? 1 : 2;

  /**
   * @param {number} delayMs
   * @param {(state: string) => boolean} stillBad
   */
  function restartLater(delayMs, stillBad) {
    clear(restartTimer);
    restartTimer = timers.setTimeout(() => {
      restartTimer = null;
      if (stillBad(connectionStateOf(pc))) restartIce();
    }, delayMs);
  }

  // A connection that never gets going (no candidates arrive, or a browser's ICE agent stalls)
  // reports no failure at all; this timer treats "not connected after a while" as one.
  function armConnectTimer() {
    clear(connectTimer);
    connectTimer = timers.setTimeout(() => {
      connectTimer = null;
      if (isUp(connectionStateOf(pc))) return;
      if (restarts > 0 && options.onStuck) options.onStuck();
      else restartIce();
    }, connectTimeoutMs * followerFactor);
  }

  function onStateChange() {
    if (options.isClosed()) return;
    const state = connectionStateOf(pc);
    if (state === 'failed' && options.onTransportFailed && dtlsFailed(pc)) {
      clear(restartTimer);
      restartTimer = null;
      options.onTransportFailed();
    } else if (state === 'failed') {
      if (!leads) restartLater(failedGraceMs, (now) => now === 'failed');
      else {
        clear(restartTimer);
        restartTimer = null;
        restartIce();
      }
    } else if (state === 'disconnected') {
      // "disconnected" often heals by itself within a second or two (a Wi-Fi hiccup), so a
      // restart waits to see whether it lasts.
      if (restartTimer === null) {
        restartLater(disconnectedGraceMs * followerFactor, (now) => now === 'disconnected' || now === 'failed');
      }
    } else if (isUp(state)) {
      clear(restartTimer);
      restartTimer = null;
      clear(connectTimer);
      connectTimer = null;
    }
  }

  // Listening to both keeps browsers that lack connectionState covered; the handler reads
  // whichever state exists, so a double event is harmless.
  pc.addEventListener('connectionstatechange', onStateChange);
  pc.addEventListener('iceconnectionstatechange', onStateChange);
  armConnectTimer();

  return {
    restartIce,
    count: () => restarts,
    /** Stops the timers and detaches from the connection. */
    stop() {
      clear(restartTimer);
      clear(connectTimer);
      pc.removeEventListener('connectionstatechange', onStateChange);
      pc.removeEventListener('iceconnectionstatechange', onStateChange);
    },
  };
}
