// A call relayed through a real TURN server: coturn on loopback with a shared secret
// (use-auth-secret), webrtc.cgi handing out time-limited credentials derived from it, and two
// Chromium peers forced to relay (iceTransportPolicy 'relay') that must connect through it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { peerId, withTwoPeers } from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { freePort, roomName } from './lib/server.mjs';

const TURNSERVER = process.env.TURNSERVER || '/usr/bin/turnserver';
const SECRET = `e2e-turn-secret-${process.pid}-${Date.now()}`;

/** Starts coturn on 127.0.0.1 and resolves once it listens; returns {port, log, stop}. */
async function startTurn() {
  if (!fs.existsSync(TURNSERVER)) throw new Error(`coturn not found at ${TURNSERVER} (install coturn)`);
  const port = await freePort();
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'webrtc-cgi-turn-'));
  const logFile = path.join(folder, 'turn.log');
  // Loopback peers are refused by default (a TURN server must not relay into its own host);
  // here both browsers live on loopback, so it is allowed for this test server only.
  const child = spawn(TURNSERVER, [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    '--min-port=49160', '--max-port=49400', '--use-auth-secret', `--static-auth-secret=${SECRET}`,
    '--realm=webrtc-cgi.test', '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers',
    '--fingerprint', '--verbose', `--log-file=${logFile}`, '--simple-log', `--pidfile=${path.join(folder, 'turn.pid')}`,
    `--userdb=${path.join(folder, 'turn.db')}`,
  ], { stdio: 'ignore' });
  const readLog = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  const deadline = Date.now() + 15_000;
  while (!/Total (UDP|General) servers|listener opened|IPv4\. UDP listener/i.test(readLog())) {
    if (child.exitCode !== null) throw new Error(`coturn exited at start:\n${readLog()}`);
    if (Date.now() > deadline) throw new Error(`coturn did not start:\n${readLog()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    log: readLog,
    stop() {
      child.kill('SIGTERM');
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}

describe('a call relayed through coturn', () => {
  let turn;
  // Registered before the fixture, so coturn runs (and its port is known) before the server
  // starts.
  before(async () => {
    turn = await startTurn();
  });
  after(() => turn?.stop());
  const call = serverAndBrowser(() => ({
    name: 'turn',
    settings: {
      ice_servers: [],
      ice_transport_policy: 'relay',
      turn: { urls: [`turn:127.0.0.1:${turn.port}?transport=udp`], secret: SECRET, ttl_seconds: 600 },
    },
  }));

  test('two peers forced to relay connect with the generated credentials', { timeout: 90_000 }, async () => {
    await withTwoPeers(call.browser, call.server, roomName('turn'), async (peers) => {
      for (const peer of peers) {
        const types = await peer.page.evaluate(async () => {
          const found = [];
          for (const pc of window.__e2ePeerConnections || []) {
            if (pc.connectionState !== 'connected') continue;
            const stats = await pc.getStats();
            for (const report of stats.values()) {
              if (report.type === 'candidate-pair' && report.state === 'succeeded' && report.nominated) {
                found.push(stats.get(report.localCandidateId)?.candidateType);
              }
            }
          }
          return found;
        });
        assert.ok(types.length > 0, 'a nominated candidate pair exists');
        assert.ok(types.every((type) => type === 'relay'), `every path goes through TURN: ${types}`);
        assert.equal(
          await peer.page.evaluate(() => window.__e2ePeerConnections[0].getConfiguration().iceTransportPolicy),
          'relay',
        );
      }
      // coturn accepted the credentials webrtc.cgi derived for each peer: username EXPIRY:PEER.
      const log = turn.log();
      for (const peer of peers) {
        const id = await peerId(peer);
        assert.match(log, new RegExp(`\\d+:${id.replace(/[-]/g, '\\-')}`), `coturn saw peer ${id}'s username`);
      }
      // The first ALLOCATE of each session goes without a user and gets 401 with a nonce (the
      // TURN long-term credential handshake); one with a user refused would be a bad password.
      assert.doesNotMatch(log, /user <[^>]+>[^\n]*error 401/, 'no request with credentials was refused');
    });
  });
});
