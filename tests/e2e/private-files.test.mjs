// The settings file and the data folder are never served over HTTP: not from a ScriptAlias'd
// cgi-bin, and not from an ordinary web folder where only the shipped .htaccess protects them
// (with the default data folder beside the executable, under its unguessable name, in both
// cases).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { fetchRaw, join, post, roomName, startServer } from './lib/server.mjs';

// A valid setting whose value is unlikely to appear in any page, to recognise a leak.
const SETTINGS = { data_dir: null, max_backlog_bytes: 987_654 };
const SETTINGS_MARKER = '987654';

function filesUnder(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    found.push(full);
    if (entry.isDirectory()) found.push(...filesUnder(full));
  }
  return found;
}

/** Puts real secrets into the data folder: two peers, one message between them. */
async function fillDataFolder(server) {
  const room = roomName('private');
  const a = await join(server.url, room);
  const b = await join(server.url, room);
  await post(server.url, room, a, { to: b.peer, type: 'chat', data: { text: 'secret-text' } });
  return { room, secrets: [a.token, b.token, 'secret-text'] };
}

function urlPathOf(server, file) {
  const appPath = new URL(server.url).pathname.replace(/webrtc\.cgi$/, '');
  return appPath + path.relative(server.appDir, file).split(path.sep).map(encodeURIComponent).join('/');
}

for (const layout of ['cgi-bin', 'docroot']) {
  describe(`private files in ${layout === 'cgi-bin' ? 'a ScriptAlias cgi-bin' : 'an ordinary web folder'}`, () => {
    let server;
    after(() => server?.stop());

    test('webrtc.json and every file of the data folder answer 403/404/500 without content', async () => {
      server = await startServer({ name: `private-${layout}`, layout, settings: SETTINGS });
      const { secrets } = await fillDataFolder(server);
      // The account cannot write above the web root here, so the default data folder is
      // beside the executable under a name no visitor can guess.
      const hidden = fs.readdirSync(server.appDir).filter((name) => /^webrtc-data-[\w-]{24}$/.test(name));
      assert.equal(hidden.length, 1, `one hidden data folder beside the executable: ${hidden}`);
      const dataDir = path.join(server.appDir, hidden[0]);
      const dataFiles = filesUnder(dataDir);
      assert.ok(dataFiles.length > 0, 'the data folder holds files after a join');

      const appPath = new URL(server.url).pathname.replace(/webrtc\.cgi$/, '');
      const paths = [
        `${appPath}webrtc.json`,
        `${appPath}webrtc%2ejson`,
        `${appPath}webrtc.json?x=1`,
        `${appPath}./webrtc.json`,
        `${appPath.replace(/\/$/, '//')}webrtc.json`,
        `${appPath}webrtc-data`,
        `${appPath}webrtc-data/`,
        `${appPath}webrtc%2Ddata/`,
        `${appPath}${hidden[0]}`,
        `${appPath}${hidden[0]}/`,
        ...dataFiles.map((file) => urlPathOf(server, file)),
      ];
      for (const requestPath of paths) {
        const answer = await fetchRaw(server.origin, requestPath);
        assert.ok(
          [403, 404, 500].includes(answer.status),
          `${requestPath} answered ${answer.status}: ${answer.body.slice(0, 200)}`,
        );
        assert.ok(!answer.body.includes(SETTINGS_MARKER), `${requestPath} leaked the settings`);
        for (const secret of secrets) {
          assert.ok(!answer.body.includes(secret), `${requestPath} leaked ${secret}`);
        }
        assert.ok(!/Index of/i.test(answer.body), `${requestPath} listed a folder`);
      }

      const listing = await fetchRaw(server.origin, appPath);
      assert.ok(!listing.body.includes('webrtc.json'), `${appPath} lists the folder's files`);
      assert.ok(!listing.body.includes(hidden[0]), `${appPath} shows the data folder's name`);
    });
  });
}

describe('control: an ordinary web folder without the .htaccess', () => {
  let server;
  after(() => server?.stop());

  test('serves webrtc.json as a plain file, which is what the .htaccess prevents', async () => {
    server = await startServer({ name: 'private-no-htaccess', layout: 'docroot', htaccess: false, settings: SETTINGS });
    const appPath = new URL(server.url).pathname.replace(/webrtc\.cgi$/, '');
    const answer = await fetchRaw(server.origin, `${appPath}webrtc.json`);
    assert.equal(answer.status, 200);
    assert.ok(answer.body.includes(SETTINGS_MARKER));
  });
});
