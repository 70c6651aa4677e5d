// Sealed rooms through Apache with real Chromium peers: a fresh room gets its key in the
// link's fragment, its calls connect while the host's disk and logs hold nothing readable,
// both ends show the same safety code (the one their getStats() certificates give; Firefox,
// which has no certificate statistics, takes its applied descriptions and shows the same), a
// message altered on the host's disk is refused with a warning, and a link without its key
// is called incomplete. Old rooms without a key keep working and say they are not sealed.

import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { closePeers, openPeer } from './lib/browser.mjs';
import { bodyData, joinCall, peerId, UI, waitForBody, waitForMesh } from './lib/client.mjs';
import { launchFirefox } from './lib/firefox.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { join, post, roomName } from './lib/server.mjs';
import { deriveRoomKey, openMessage, sealMessage, secretFromFragment } from '../../www/net/seal.js';

/** Opens the bare URL (a fresh room, by redirect) and waits for the join. */
async function openFreshRoom(browser, server, name) {
  const peer = await openPeer(browser, server.url, { name });
  await waitForJoin(peer);
  const link = await peer.page.evaluate(() => location.href);
  return { peer, link, room: new URL(link).searchParams.get('room') };
}

async function openLink(browser, link, name) {
  const peer = await openPeer(browser, link, { name });
  await waitForJoin(peer);
  return peer;
}

function waitForJoin(peer) {
  return waitForBody(peer, () => Boolean(document.body.dataset.peer), 20_000, 'a peer id');
}

/** The safety code each remote tile shows, by peer id, once `count` tiles have one. */
async function shownCodes(peer, count) {
  await waitForBody(peer, ([selector, n]) => document.querySelectorAll(selector).length === n,
    15_000, `${count} safety codes`, [UI.tileWithSafetyCode, count]);
  return new Map(await peer.page.$$eval(UI.remoteTile, (tiles) => tiles.map((tile) => [tile.dataset.peer, tile.dataset.safetyCode])));
}

/**
 * The local and remote certificate fingerprints of the page's connection to `otherId`, from
 * getStats() as the browser reports them.
 */
async function statsFingerprints(peer, otherId) {
  return peer.page.evaluate(async (id) => {
    // A connection reports "connected" a moment before its certificate entries exist.
    for (let attempt = 0; ; attempt += 1) {
      const entries = [...(await window.webrtcCgi.stats(id)).values()];
      const byId = new Map(entries.map((entry) => [entry.id, entry]));
      const transport = entries.find((entry) => entry.type === 'transport' && entry.dtlsState === 'connected');
      const [local, remote] = [byId.get(transport?.localCertificateId), byId.get(transport?.remoteCertificateId)];
      const text = (entry) => `${entry.fingerprintAlgorithm.toLowerCase()} ${entry.fingerprint.toUpperCase()}`;
      if (local && remote) return { local: text(local), remote: text(remote) };
      if (attempt === 50) throw new Error('no certificate statistics after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, otherId);
}

/** The safety code as ARCHITECTURE.md defines it, computed here independently of the client. */
function expectedCode({ local, remote }) {
  const [first, second] = [local, remote].sort();
  const digest = createHash('sha256').update(`webrtc-cgi safety code v1\n${first}\n${second}`).digest();
  const digits = (digest.readBigUInt64BE(0) % 10n ** 12n).toString().padStart(12, '0');
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8)}`;
}

/** Checks that both ends of every pair show one code, the one their certificates give. */
async function checkSafetyCodes(peers) {
  const ids = await Promise.all(peers.map((peer) => peerId(peer)));
  const shown = await Promise.all(peers.map((peer) => shownCodes(peer, peers.length - 1)));
  for (let i = 0; i < peers.length; i += 1) {
    for (let j = i + 1; j < peers.length; j += 1) {
      const fromI = await statsFingerprints(peers[i], ids[j]);
      const fromJ = await statsFingerprints(peers[j], ids[i]);
      assert.equal(fromI.remote, fromJ.local, 'each end verified the other\'s own certificate');
      assert.equal(shown[i].get(ids[j]), shown[j].get(ids[i]), `${peers[i].name} and ${peers[j].name} show one code`);
      assert.equal(shown[i].get(ids[j]), expectedCode(fromI), 'the code comes from the getStats certificates');
    }
  }
}

/** Everything of the host's that could keep a secret: the data directory and Apache's logs. */
function hostFiles(server) {
  const files = [path.join(server.dir, 'logs/access.log'), path.join(server.dir, 'logs/error.log')];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(path.join(server.dir, 'state/webrtc-data'));
  return files;
}

/** The machine's own network addresses, which host candidates would carry. */
const lanAddresses = Object.values(os.networkInterfaces()).flat()
  .filter((address) => address && !address.internal).map((address) => address.address);

/** Asserts that nothing of the call's setup lies readable on the host. */
function assertNothingReadable(server, when) {
  const needles = ['v=0', 'a=fingerprint', 'candidate:', ...lanAddresses];
  for (const file of hostFiles(server)) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : '';
    for (const needle of needles) {
      assert.ok(!text.includes(needle), `${when}: ${path.relative(server.dir, file)} contains ${needle}`);
    }
  }
}

/** The store's record checksum (FNV-1a 64 over `id TAB payload`), as a host could recompute it. */
function recordChecksum(id, payload) {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(`${id}\t${payload}`)) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/** The records of a peer's inbox on disk: [{id, payload}]. */
function inboxRecords(server, room, peer) {
  const file = path.join(server.dir, 'state/webrtc-data/rooms', room, `inbox-${peer}`);
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [id, , payload] = line.split('\t');
    return { id, payload: JSON.parse(payload), file };
  });
}

describe('sealed rooms through Apache', () => {
  const fixture = serverAndBrowser({ name: 'sealed' });

  test('a fresh room is sealed, and a sealed two-person call leaves nothing readable on the host', { timeout: 90_000 }, async () => {
    const { server } = fixture;
    const peers = [];
    try {
      const { peer: a, link } = await openFreshRoom(fixture.browser, server, 'a');
      peers.push(a);
      assert.match(link, /#k=[A-Za-z0-9_-]{43}$/, 'the key is in the fragment');
      assert.equal(await a.page.inputValue(UI.roomLink), link, 'the waiting panel shares the whole link');
      assert.equal(await a.page.getAttribute(UI.sealState, 'data-sealed'), 'true');
      peers.push(await openLink(fixture.browser, link, 'b'));
      await waitForMesh(peers);
      assert.ok(await peers[1].page.evaluate(() => window.webrtcCgi.sealed), 'b seals too');
      await checkSafetyCodes(peers);
      assertNothingReadable(server, 'during the call');
    } finally {
      await closePeers(peers);
    }
    assertNothingReadable(server, 'after the call');
  });

  test('a sealed three-person call connects, with one code per pair', { timeout: 120_000 }, async () => {
    const { server } = fixture;
    const peers = [];
    try {
      const { peer: a, link } = await openFreshRoom(fixture.browser, server, 'a');
      peers.push(a);
      peers.push(await openLink(fixture.browser, link, 'b'));
      peers.push(await openLink(fixture.browser, link, 'c'));
      await waitForMesh(peers);
      await checkSafetyCodes(peers);
      assertNothingReadable(server, 'during the three-person call');
    } finally {
      await closePeers(peers);
    }
  });

  test('Firefox, which has no certificate statistics, shows Chromium\'s code in a sealed room', { timeout: 120_000 }, async () => {
    const { server } = fixture;
    const firefox = await launchFirefox();
    const peers = [];
    try {
      const { peer: chromium, link } = await openFreshRoom(fixture.browser, server, 'chromium');
      peers.push(chromium);
      peers.push(await openLink(firefox, link, 'firefox'));
      const [chromiumId, firefoxId] = await waitForMesh(peers);
      const [onChromiumTile, onFirefoxTile] = await Promise.all([shownCodes(chromium, 1), shownCodes(peers[1], 1)]);
      const fromChromium = await statsFingerprints(chromium, firefoxId);
      const onFirefox = await peers[1].page.evaluate(async (id) => {
        const entries = [...(await window.webrtcCgi.stats(id)).values()];
        const pc = window.__e2ePeerConnections.find((candidate) => candidate.connectionState === 'connected');
        const fingerprint = (sdp) => /^a=fingerprint:\S+ (\S+)/m.exec(sdp)?.[1].toUpperCase();
        return {
          certificates: entries.filter((entry) => entry.type === 'certificate').length,
          local: fingerprint(pc.currentLocalDescription.sdp),
          remote: fingerprint(pc.currentRemoteDescription.sdp),
        };
      }, chromiumId);
      assert.equal(onFirefox.certificates, 0, 'Firefox reports no certificate statistics (else this test tests nothing new)');
      assert.equal(`sha-256 ${onFirefox.remote}`, fromChromium.local, 'Firefox applied the certificate Chromium has');
      assert.equal(`sha-256 ${onFirefox.local}`, fromChromium.remote, 'Chromium verified the certificate Firefox has');
      assert.equal(onFirefoxTile.get(chromiumId), onChromiumTile.get(firefoxId), 'both pages show one code');
      assert.equal(onChromiumTile.get(firefoxId), expectedCode(fromChromium), 'it is the code of the verified certificates');
      assertNothingReadable(server, 'during the mixed call');
    } finally {
      await closePeers(peers);
      await firefox.close();
    }
  });

  test('a message altered on the host\'s disk is refused with a warning; the genuine one works', { timeout: 90_000 }, async () => {
    const { server } = fixture;
    const peers = [];
    try {
      const { peer: a, link, room } = await openFreshRoom(fixture.browser, server, 'a');
      peers.push(a);
      const aId = await peerId(a);
      const key = await deriveRoomKey(webcrypto.subtle, secretFromFragment(new URL(link).hash), room);
      // A second participant that speaks HTTP: it holds the key, as a real one would.
      const x = await join(`${server.url}?sealed=1`, room);
      assert.equal(x.sealed, true);
      await waitForBody(a, (selector) => Boolean(document.querySelector(selector)), 10_000, 'x\'s tile', UI.tileOf(x.peer));
      const sdp = await a.page.evaluate(async () => {
        const pc = new RTCPeerConnection();
        pc.createDataChannel('probe');
        await pc.setLocalDescription();
        const text = pc.localDescription.sdp;
        pc.close();
        return text;
      });
      const offer = (seq) => sealMessage(webcrypto, key, { room, from: x.peer, to: aId },
        { type: 'description', data: { type: 'offer', sdp } }, seq);

      // Keep a's page from reading its inbox while the host changes it.
      await a.context.setOffline(true);
      server.killEventStreams(aId);
      await post(server.url, room, x, { to: aId, type: 'sealed', data: await offer(1) });
      const [stored] = inboxRecords(server, room, aId).filter((record) => record.payload.type === 'sealed');
      assert.ok(stored, 'the offer waits on disk');
      const bytes = Buffer.from(stored.payload.data.sealed, 'base64');
      bytes[30] ^= 0x01;
      const altered = JSON.stringify({ ...stored.payload, data: { sealed: bytes.toString('base64') } });
      const lines = fs.readFileSync(stored.file, 'utf8').split('\n').map((line) =>
        (line.startsWith(`${stored.id}\t`) ? `${stored.id}\t${recordChecksum(stored.id, altered)}\t${altered}` : line));
      fs.writeFileSync(stored.file, lines.join('\n'));
      await a.context.setOffline(false);

      await waitForBody(a, (selector) => document.querySelector(selector).dataset.kind === 'tampered', 30_000,
        'the tamper warning', UI.status);
      assert.match(await a.page.textContent(UI.statusText), /altered/);
      await a.page.waitForTimeout(2000);
      const answersTo = async () => {
        const records = inboxRecords(server, room, x.peer).filter((record) => record.payload.from === aId);
        const opened = await Promise.all(records.map((record) =>
          openMessage(webcrypto.subtle, key, { room, from: aId, to: x.peer }, record.payload.data)));
        return opened.filter((message) => message?.type === 'description' && message.data.type === 'answer');
      };
      assert.equal((await answersTo()).length, 0, 'the altered offer was not applied');

      await post(server.url, room, x, { to: aId, type: 'sealed', data: await offer(2) });
      const deadline = Date.now() + 15_000;
      while ((await answersTo()).length === 0 && Date.now() < deadline) await a.page.waitForTimeout(250);
      assert.equal((await answersTo()).length, 1, 'the genuine offer is answered, sealed');
    } finally {
      await closePeers(peers);
    }
  });

  test('a sealed room opened without its key is an incomplete link, and joins nothing', { timeout: 60_000 }, async () => {
    const { server } = fixture;
    const peers = [];
    try {
      const { peer: a, room } = await openFreshRoom(fixture.browser, server, 'a');
      peers.push(a);
      const visitor = await openPeer(fixture.browser, `${server.url}?room=${room}`, { name: 'visitor' });
      peers.push(visitor);
      await waitForBody(visitor, () => document.body.dataset.state === 'incomplete', 20_000, 'the incomplete-link state');
      assert.equal(await visitor.page.getAttribute(UI.status, 'data-kind'), 'incomplete');
      assert.match(await visitor.page.textContent(UI.statusText), /link is incomplete.*whole link/s);
      assert.equal(await visitor.page.isVisible(UI.waiting), false);
      // The visitor joined only to learn that the room is sealed, and left at once.
      await a.page.waitForTimeout(3000);
      assert.equal(await bodyData(a, 'peers'), '0', 'no lasting tile for the visitor');
      assert.ok(!(await bodyData(visitor, 'peer')), 'the visitor holds no peer id');
    } finally {
      await closePeers(peers);
    }
  });

  test('a room without a key keeps working and says it is not sealed', { timeout: 90_000 }, async () => {
    const { server } = fixture;
    const peers = [];
    const room = roomName('unsealed');
    try {
      peers.push(await joinCall(fixture.browser, server, room, { name: 'a' }));
      peers.push(await joinCall(fixture.browser, server, room, { name: 'b' }));
      await waitForMesh(peers);
      for (const peer of peers) {
        assert.equal(await peer.page.getAttribute(UI.sealState, 'data-sealed'), 'false');
        assert.equal(await peer.page.textContent(UI.sealState), 'Not sealed');
      }
      await checkSafetyCodes(peers);
      // A link with a key to a room the server calls open is a host that unsealed it.
      const withKey = await openPeer(fixture.browser, `${server.url}?room=${room}#k=${'A'.repeat(42)}E`, { name: 'keyed' });
      peers.push(withKey);
      await waitForBody(withKey, () => document.body.dataset.state === 'error', 20_000, 'the refusal');
      assert.match(await withKey.page.textContent(UI.statusText), /server says the room is not sealed/);
      await peers[0].page.waitForTimeout(3000);
      assert.equal(await bodyData(peers[0], 'peers'), '1', 'it did not take part');
    } finally {
      await closePeers(peers);
    }
    // The scan above would see it: an unsealed offer waiting for its reader lies in clear.
    const [x, y] = [await join(server.url, room), await join(server.url, room)];
    await post(server.url, room, x, { to: y.peer, type: 'description', data: { sdp: 'v=0\r\na=fingerprint:sha-256 AA\r\n' } });
    assert.throws(() => assertNothingReadable(server, 'control'), /contains v=0/);
  });
});
