// Where the call's RTCPeerConnections come from: the ICE configuration the join answer (and
// each credential renewal) gives, and the spare connection made while the join is on its way,
// for the first peer: creating one takes the browser 10 to 20 ms of the page's time, which
// would otherwise fall between the join's answer and the first offer. It only makes and
// configures connections; the mesh (mesh.js) decides what they are for.
'use strict';

/**
 * @typedef {object} Connections
 * @property {() => RTCPeerConnection} newConnection The spare, configured, or a new one.
 * @property {() => void} prepareSpare Makes the spare connection unless there is one.
 * @property {() => void} dropSpare Closes the spare (hang-up).
 * @property {(configuration: RTCConfiguration) => void} configure The join's ICE servers.
 * @property {(iceServers: RTCIceServer[]) => RTCConfiguration} renewIceServers Fresh
 *   credentials; returns the whole configuration for the connections already made.
 */

/**
 * @param {typeof RTCPeerConnection} PeerConnection
 * @returns {Connections}
 */
export function createConnections(PeerConnection) {
  /** @type {RTCConfiguration} */
  let rtcConfiguration = {};
  /** @type {RTCPeerConnection | null} */
  let spare = null;

  return {
    newConnection() {
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
    },
    prepareSpare() {
      spare ??= new PeerConnection(rtcConfiguration);
    },
    dropSpare() {
      spare?.close();
      spare = null;
    },
    configure(configuration) {
      rtcConfiguration = configuration;
    },
    renewIceServers(iceServers) {
      rtcConfiguration = { ...rtcConfiguration, iceServers };
      return rtcConfiguration;
    },
  };
}
