// The safety code of one connection: a short number both people can read out to each other.
// It is derived from the two DTLS certificate fingerprints the connection actually verified,
// read from getStats() (the transport's certificate entries, not the SDP text a relay could
// have changed), sorted so that both sides hash them in the same order. A relay that put its
// own certificate in the middle makes the two sides see different fingerprints, so different
// codes. WebCrypto's SHA-256 is passed in.
//
// Firefox has no certificate statistics. There the fingerprints come from the descriptions
// the connection has applied (currentLocalDescription, currentRemoteDescription): the browser
// refuses a DTLS peer whose certificate does not match the applied remote fingerprint, so
// once the connection is connected those are the certificates it verified too, and a mixed
// pair computes one code.
'use strict';

const LABEL = 'webrtc-cgi safety code v1';

/**
 * The local and remote certificate fingerprints of a connection's DTLS transport, each as
 * "ALGORITHM FINGERPRINT", or null while the transport has none (not connected yet, or a
 * browser without certificate statistics).
 * @param {Iterable<any>} stats The values of an RTCStatsReport.
 * @returns {{local: string, remote: string} | null}
 */
export function certificateFingerprints(stats) {
  const entries = [...stats];
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const transports = entries.filter((entry) => entry.type === 'transport' && entry.localCertificateId && entry.remoteCertificateId);
  const transport = transports.find((entry) => entry.dtlsState === 'connected') ?? transports[0];
  if (!transport) return null;
  /** @param {string} id */
  const fingerprint = (id) => {
    const certificate = byId.get(id);
    if (certificate?.type !== 'certificate' || typeof certificate.fingerprint !== 'string') return null;
    return `${String(certificate.fingerprintAlgorithm ?? '').toLowerCase()} ${certificate.fingerprint.toUpperCase()}`;
  };
  const local = fingerprint(transport.localCertificateId);
  const remote = fingerprint(transport.remoteCertificateId);
  return local && remote ? { local, remote } : null;
}

/**
 * The one fingerprint a description names for its DTLS certificate, as "ALGORITHM
 * FINGERPRINT" (SHA-256 where it offers several algorithms), or null when it names none or
 * names different certificates in different sections (no code is better than a wrong one).
 * @param {string} sdp
 * @returns {string | null}
 */
export function sdpFingerprint(sdp) {
  const lines = [...sdp.matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/gm)]
    .map(([, algorithm, value]) => `${algorithm.toLowerCase()} ${value.toUpperCase()}`);
  const chosen = lines.filter((line) => line.startsWith('sha-256 '));
  const distinct = new Set(chosen.length > 0 ? chosen : lines);
  return distinct.size === 1 ? [...distinct][0] : null;
}

/**
 * The fingerprints of a connected connection's applied descriptions, for a browser without
 * certificate statistics; null before both descriptions are applied and connected.
 * @param {Pick<RTCPeerConnection, 'connectionState' | 'currentLocalDescription' | 'currentRemoteDescription'>} pc
 * @returns {{local: string, remote: string} | null}
 */
export function appliedFingerprints(pc) {
  if (pc.connectionState !== 'connected') return null;
  const local = sdpFingerprint(pc.currentLocalDescription?.sdp ?? '');
  const remote = sdpFingerprint(pc.currentRemoteDescription?.sdp ?? '');
  return local && remote ? { local, remote } : null;
}

/**
 * Whether a statistics report holds no certificate at all, as Firefox's never does (its
 * transport entry has no certificate ids either). Chromium lists its own certificate as soon
 * as the connection has a transport, so a Chromium whose remote certificate is not listed
 * yet waits for it rather than reading its descriptions.
 * @param {Iterable<any>} stats
 */
function lacksCertificateStats(stats) {
  for (const entry of stats) if (entry.type === 'certificate') return false;
  return true;
}

/**
 * The code for a connection between the certificates `a` and `b`: 12 digits in groups of
 * four, the same whichever side computes it.
 * @param {SubtleCrypto} subtle
 * @param {string} a
 * @param {string} b
 * @returns {Promise<string>}
 */
export async function safetyCode(subtle, a, b) {
  const [first, second] = [a, b].sort();
  const digest = new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(`${LABEL}\n${first}\n${second}`)));
  let number = 0n;
  for (const byte of digest.subarray(0, 8)) number = (number << 8n) | BigInt(byte);
  const digits = (number % 10n ** 12n).toString().padStart(12, '0');
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8)}`;
}

/**
 * The safety code of a connected RTCPeerConnection, or null when neither its statistics nor
 * (in a browser without certificate statistics) its applied descriptions name a pair of
 * certificates. Asks a few times: a browser may report "connected" a moment before its
 * certificate statistics exist.
 * @param {RTCPeerConnection} pc
 * @param {SubtleCrypto} subtle
 * @param {(ms: number) => Promise<void>} sleep
 * @returns {Promise<string | null>}
 */
export async function connectionSafetyCode(pc, subtle, sleep) {
  // Up to ten seconds: on a busy machine the remote certificate can be listed late.
  for (let attempt = 0; attempt < 25 && pc.connectionState !== 'closed'; attempt += 1) {
    if (attempt > 0) await sleep(400);
    const stats = [...(await pc.getStats()).values()];
    const fingerprints = certificateFingerprints(stats) ?? (lacksCertificateStats(stats) ? appliedFingerprints(pc) : null);
    if (fingerprints) return safetyCode(subtle, fingerprints.local, fingerprints.remote);
  }
  return null;
}
