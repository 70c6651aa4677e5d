import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import {
  createReplayGuard, deriveRoomKey, fragmentOf, newSecret, openMessage, sealMessage, secretFromFragment,
} from '../../www/net/seal.js';
import { appliedFingerprints, certificateFingerprints, connectionSafetyCode, safetyCode, sdpFingerprint } from '../../www/rtc/safety-code.js';

const crypto = /** @type {any} */ (webcrypto);
const { subtle } = crypto;
const envelope = { room: 'room1', from: 'alice0000000', to: 'bob000000000' };
const offer = { type: 'description', data: { type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 AB:CD\r\n' } };

async function roomKey(room = 'room1') {
  const secret = secretFromFragment(fragmentOf(newSecret(crypto)));
  assert.ok(secret);
  return deriveRoomKey(subtle, secret, room);
}

test('a fresh secret is 256 bits, and the fragment gives it back', () => {
  const secret = newSecret(crypto);
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(secretFromFragment(fragmentOf(secret)).length, 32);
  assert.notEqual(newSecret(crypto), secret);
});

test('a link without its secret, or with a damaged one, has no key', () => {
  for (const hash of ['', '#', '#k=', '#k=short', `#x=${newSecret(crypto)}`, `#k=${newSecret(crypto).slice(1)}!`]) {
    assert.equal(secretFromFragment(hash), null, hash);
  }
});

test('a sealed message opens to what was sealed, and shows nothing of it', async () => {
  const key = await roomKey();
  const data = await sealMessage(crypto, key, envelope, offer, 1);
  assert.deepEqual(Object.keys(data), ['sealed']);
  assert.doesNotMatch(JSON.stringify(data), /v=0|fingerprint|description|offer/);
  assert.deepEqual(await openMessage(subtle, key, envelope, data), { ...offer, seq: 1 });
  const again = await sealMessage(crypto, key, envelope, offer, 1);
  assert.notEqual(again.sealed, data.sealed, 'a fresh nonce every time');
});

test('a ciphertext altered by one bit does not open', async () => {
  const key = await roomKey();
  const { sealed } = await sealMessage(crypto, key, envelope, offer, 1);
  const bytes = Buffer.from(sealed, 'base64');
  for (const at of [0, 12, bytes.length - 1]) {
    const altered = Buffer.from(bytes);
    altered[at] ^= 1;
    assert.equal(await openMessage(subtle, key, envelope, { sealed: altered.toString('base64') }), null, `byte ${at}`);
  }
  assert.equal(await openMessage(subtle, key, envelope, { sealed: sealed.slice(0, 20) }), null, 'cut short');
  assert.equal(await openMessage(subtle, key, envelope, offer.data), null, 'not sealed at all');
});

test('a message re-addressed, re-attributed or moved to another room does not open', async () => {
  const key = await roomKey();
  const data = await sealMessage(crypto, key, envelope, offer, 1);
  assert.equal(await openMessage(subtle, key, { ...envelope, to: 'carol0000000' }, data), null, 're-addressed');
  assert.equal(await openMessage(subtle, key, { ...envelope, from: 'carol0000000' }, data), null, 're-attributed');
  assert.equal(await openMessage(subtle, key, { ...envelope, to: '*' }, data), null, 'turned into a broadcast');
  assert.equal(await openMessage(subtle, key, { ...envelope, room: 'room2' }, data), null, 'another room');
});

test('without the room\'s key a message does not open', async () => {
  const data = await sealMessage(crypto, await roomKey(), envelope, offer, 1);
  assert.equal(await openMessage(subtle, await roomKey(), envelope, data), null, 'another secret');
  const secret = secretFromFragment(fragmentOf(newSecret(crypto)));
  const sameSecretOtherRoom = await deriveRoomKey(subtle, secret, 'room2');
  const sealedThere = await sealMessage(crypto, sameSecretOtherRoom, { ...envelope, room: 'room1' }, offer, 1);
  assert.equal(await openMessage(subtle, await deriveRoomKey(subtle, secret, 'room1'), envelope, sealedThere), null,
    'one secret gives each room its own key');
});

test('a replayed sequence number is refused, per sender', () => {
  const guard = createReplayGuard();
  assert.equal(guard.accept('alice', 1), true);
  assert.equal(guard.accept('alice', 2), true);
  assert.equal(guard.accept('alice', 2), false, 'the same message again');
  assert.equal(guard.accept('alice', 1), false, 'an older message');
  assert.equal(guard.accept('bob', 1), true, 'another sender counts on its own');
  assert.equal(guard.accept('alice', 0), false);
  guard.reset();
  assert.equal(guard.accept('alice', 1), true, 'a rejoin starts afresh');
});

/** getStats() entries of one side of a DTLS connection, as Chromium reports them. */
function statsOf(local, remote) {
  return [
    { id: 'T01', type: 'transport', dtlsState: 'connected', localCertificateId: 'CFlocal', remoteCertificateId: 'CFremote' },
    { id: 'CFlocal', type: 'certificate', fingerprintAlgorithm: 'sha-256', fingerprint: local },
    { id: 'CFremote', type: 'certificate', fingerprintAlgorithm: 'sha-256', fingerprint: remote },
    { id: 'CP1', type: 'candidate-pair', state: 'succeeded' },
  ];
}

test('both sides compute the same safety code; a substituted fingerprint changes it', async () => {
  const alice = 'AA:11:22:33';
  const bob = 'BB:44:55:66';
  const seenByAlice = certificateFingerprints(statsOf(alice, bob));
  const seenByBob = certificateFingerprints(statsOf(bob, alice));
  assert.deepEqual(seenByAlice, { local: 'sha-256 AA:11:22:33', remote: 'sha-256 BB:44:55:66' });
  const codeAlice = await safetyCode(subtle, seenByAlice.local, seenByAlice.remote);
  const codeBob = await safetyCode(subtle, seenByBob.local, seenByBob.remote);
  assert.match(codeAlice, /^\d{4} \d{4} \d{4}$/);
  assert.equal(codeAlice, codeBob);
  // A relay in the middle shows each side its own certificate instead of the other's.
  const relay = 'EE:99:99:99';
  const aliceViaRelay = certificateFingerprints(statsOf(alice, relay));
  const bobViaRelay = certificateFingerprints(statsOf(bob, relay));
  const a = await safetyCode(subtle, aliceViaRelay.local, aliceViaRelay.remote);
  const b = await safetyCode(subtle, bobViaRelay.local, bobViaRelay.remote);
  assert.notEqual(a, b);
  assert.notEqual(a, codeAlice);
});

test('no safety code before the DTLS transport has both certificates', () => {
  assert.equal(certificateFingerprints([]), null);
  assert.equal(certificateFingerprints([{ id: 'T', type: 'transport', dtlsState: 'connecting' }]), null);
  assert.equal(certificateFingerprints(statsOf('AA', 'BB').slice(0, 2)), null, 'remote certificate missing');
});

/** A description with the given fingerprint lines, in a session part and two media sections. */
function sdpWith(...fingerprints) {
  return ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', ...fingerprints.map((line) => `a=fingerprint:${line}`),
    'm=video 9 UDP/TLS/RTP/SAVPF 96', ...fingerprints.map((line) => `a=fingerprint:${line}`), ''].join('\r\n');
}

test('a description names its certificate by its SHA-256 fingerprint, or none when it is ambiguous', () => {
  assert.equal(sdpFingerprint(sdpWith('sha-256 aa:11:22')), 'sha-256 AA:11:22');
  assert.equal(sdpFingerprint(sdpWith('SHA-1 01:02', 'sha-256 AA:11')), 'sha-256 AA:11', 'SHA-256 is chosen');
  assert.equal(sdpFingerprint(sdpWith('sha-1 01:02')), 'sha-1 01:02');
  assert.equal(sdpFingerprint('v=0\r\ns=-\r\n'), null, 'no fingerprint');
  const twoCertificates = sdpWith('sha-256 AA:11').replace(/(m=video[^]*a=fingerprint:sha-256 )AA:11/, '$1BB:22');
  assert.equal(sdpFingerprint(twoCertificates), null, 'sections naming different certificates give no code');
});

test('without certificate statistics, a connected pair takes its applied descriptions and gets the same code', async () => {
  const alice = 'AA:11:22:33';
  const bob = 'BB:44:55:66';
  const connection = (local, remote, connectionState = 'connected') => ({
    connectionState,
    currentLocalDescription: { type: 'answer', sdp: sdpWith(`sha-256 ${local}`) },
    currentRemoteDescription: { type: 'offer', sdp: sdpWith(`sha-256 ${remote}`) },
  });
  assert.equal(appliedFingerprints(connection(alice, bob, 'connecting')), null, 'not before DTLS is done');
  assert.equal(appliedFingerprints({ connectionState: 'connected', currentLocalDescription: null, currentRemoteDescription: null }), null);
  // Alice's browser has no certificate statistics (Firefox); Bob's has them (Chromium).
  const seenByAlice = appliedFingerprints(connection(alice, bob));
  const seenByBob = certificateFingerprints(statsOf(bob, alice));
  assert.equal(await safetyCode(subtle, seenByAlice.local, seenByAlice.remote),
    await safetyCode(subtle, seenByBob.local, seenByBob.remote));
  // A relay that swapped the fingerprint in what Alice applied is seen as a different code.
  const viaRelay = appliedFingerprints(connection(alice, 'EE:99:99:99'));
  assert.notEqual(await safetyCode(subtle, viaRelay.local, viaRelay.remote),
    await safetyCode(subtle, seenByBob.local, seenByBob.remote));
});

test('the code of a connection: certificate statistics first, applied descriptions only where there are none', async () => {
  const noSleep = async () => {};
  const described = { connectionState: 'connected', currentLocalDescription: { sdp: sdpWith('sha-256 AA:11') }, currentRemoteDescription: { sdp: sdpWith('sha-256 BB:22') } };
  const withStats = { ...described, getStats: async () => new Map(statsOf('CC:33', 'DD:44').map((entry) => [entry.id, entry])) };
  assert.equal(await connectionSafetyCode(withStats, subtle, noSleep), await safetyCode(subtle, 'sha-256 CC:33', 'sha-256 DD:44'));
  const firefoxLike = { ...described, getStats: async () => new Map([
    ['CP1', { id: 'CP1', type: 'candidate-pair', state: 'succeeded' }],
    ['T1', { id: 'T1', type: 'transport', dtlsState: 'connected', dtlsRole: 'server' }],
  ]) };
  assert.equal(await connectionSafetyCode(firefoxLike, subtle, noSleep), await safetyCode(subtle, 'sha-256 AA:11', 'sha-256 BB:22'));
  const notYet = { ...withStats, getStats: async () => new Map(statsOf('CC:33', 'DD:44').slice(0, 2).map((entry) => [entry.id, entry])) };
  assert.equal(await connectionSafetyCode(notYet, subtle, noSleep), null, 'a local certificate without the remote one is waited for, not guessed');
});
