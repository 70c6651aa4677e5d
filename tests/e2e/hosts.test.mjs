// The other servers cheap hosts run, from Debian's packages, set up as the README tells a site
// owner to: nginx + fcgiwrap (four processes), lighttpd (mod_cgi, streaming on), and Apache
// with suEXEC for an unprivileged account in ~user/public_html with Debian's userdir
// AllowOverride (no Options, no FilterChain). On each: the page, a join and a post, the event
// stream (streamed, or answered at once and polled where the server buffers), the self-check's
// verdicts, the settings file and the data folder not served, and a call between two browsers.
// Then what the self-check and the clients make of the same servers without the documented
// deny rules or streaming.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { selfCheck, withTwoPeers } from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { fetchRaw, join, openEventStream, post, roomName } from './lib/server.mjs';

// A webrtc.json without data_dir, so the data folder goes where the program puts it by
// default, with a value that no page shows, to recognise a leak.
const SETTINGS = { data_dir: null, max_backlog_bytes: 987_654 };
const SETTINGS_MARKER = '987654';

const HOSTS = [
  { host: 'nginx', label: 'nginx + fcgiwrap', streams: false },
  { host: 'lighttpd', label: 'lighttpd', streams: true },
  { host: 'suexec', label: 'Apache + suEXEC (Debian userdir overrides)', streams: true },
];

/** The default data folder: beside the executable under a random name, or above the web root. */
function dataFolderOf(server) {
  const hidden = fs.readdirSync(server.appDir).filter((name) => /^webrtc-data-[\w-]{24}$/.test(name));
  if (hidden.length === 1) return { folder: path.join(server.appDir, hidden[0]), inWebRoot: true };
  assert.deepEqual(hidden, [], `at most one hidden data folder in ${server.appDir}`);
  // ~user/public_html/NAME/webrtc.cgi: the account's home folder is two levels up.
  const outside = path.join(path.dirname(path.dirname(server.appDir)), 'webrtc-data');
  assert.ok(fs.existsSync(outside), `the data folder is neither beside the executable nor at ${outside}`);
  return { folder: outside, inWebRoot: false };
}

function filesUnder(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? [full, ...filesUnder(full)] : [full];
  });
}

/** Joins two peers and has one post to the other, so the data folder holds real secrets. */
async function twoPeersAndAMessage(server) {
  const room = roomName('host');
  const a = await join(server.url, room);
  const b = await join(server.url, room);
  await post(server.url, room, a, { to: b.peer, type: 'chat', data: { text: 'secret-text' } });
  return { room, a, b, secrets: [a.token, b.token, 'secret-text', SETTINGS_MARKER] };
}

/** The URL paths of the settings file and of every file of the data folder inside the web root. */
function privatePaths(server) {
  const appPath = new URL(server.url).pathname.replace(/webrtc\.cgi$/, '');
  const { folder, inWebRoot } = dataFolderOf(server);
  const paths = [`${appPath}webrtc.json`, `${appPath}webrtc%2ejson`];
  if (inWebRoot) {
    for (const file of [folder, ...filesUnder(folder)]) {
      paths.push(appPath + path.relative(server.appDir, file).split(path.sep).map(encodeURIComponent).join('/'));
    }
  }
  return paths;
}

for (const { host, label, streams } of HOSTS) {
  describe(`${label}, as documented`, () => {
    const site = serverAndBrowser({ name: `host-${host}`, host, settings: SETTINGS });

    test('the page, a join and a post work, and the event stream delivers in time', { timeout: 60_000 }, async () => {
      const fresh = await fetchRaw(site.server.origin, new URL(site.server.url).pathname);
      assert.equal(fresh.status, 303, 'a fresh room');
      const page = await fetchRaw(site.server.origin, `${new URL(site.server.url).pathname}?room=${roomName('page')}`);
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'], /^text\/html/);

      const room = roomName('stream');
      const a = await join(site.server.url, room);
      const b = await join(site.server.url, room);
      const stream = openEventStream(site.server.url, room, b);
      const hello = await stream.waitFor((event) => event.event === 'hello', 5_000);
      if (streams) {
        assert.equal(hello.json.hold, 20, 'held open');
        await post(site.server.url, room, a, { to: b.peer, type: 'chat', data: { n: 1 } });
        await stream.waitFor((event) => event.json?.type === 'chat', 2_000);
        assert.ok(!stream.ended, 'the message came while the stream was held');
        stream.close();
      } else {
        // fcgiwrap would deliver a held stream's events only at its end: no hold at all.
        assert.equal(hello.json.hold, 0, 'answered at once behind a FastCGI wrapper');
        const finished = await stream.finished;
        assert.ok(finished.endedAfterMs < 3_000, `the stream ended after ${finished.endedAfterMs} ms`);
        await post(site.server.url, room, a, { to: b.peer, type: 'chat', data: { n: 1 } });
        const poll = openEventStream(site.server.url, room, b);
        await poll.waitFor((event) => event.json?.type === 'chat', 3_000);
        await poll.finished;
      }
    });

    test('the settings file and the data folder are not served', { timeout: 30_000 }, async () => {
      const { secrets } = await twoPeersAndAMessage(site.server);
      for (const urlPath of privatePaths(site.server)) {
        const answer = await fetchRaw(site.server.origin, urlPath);
        assert.ok([403, 404].includes(answer.status), `${urlPath} answered ${answer.status}`);
        for (const secret of secrets) assert.ok(!answer.body.includes(secret), `${urlPath} shows a secret`);
      }
    });

    test('the self-check passes the private files and says how events travel', { timeout: 60_000 }, async () => {
      const rows = await selfCheck(site.browser, site.server);
      assert.equal(rows['Private files'].verdict, 'good', rows['Private files'].text);
      assert.match(rows['Data directory'].text, /writable, and locking works/);
      if (streams) {
        assert.equal(rows.Streaming.verdict, 'good', rows.Streaming.text);
      } else {
        assert.equal(rows.Gateway.verdict, 'warning');
        assert.match(rows.Gateway.text, /fcgiwrap.*-c 4/);
        assert.match(rows.Streaming.text, /fcgiwrap/, 'the buffering is explained');
      }
      if (host === 'suexec') {
        assert.equal(dataFolderOf(site.server).inWebRoot, false, 'the data went above public_html');
        assert.match(rows.Gateway.text, /suEXEC/);
      }
    });

    test('two browsers connect with playing video', { timeout: 90_000 }, async () => {
      await withTwoPeers(site.browser, site.server, roomName(`call-${host}`));
    });
  });
}

for (const host of ['nginx', 'lighttpd']) {
  describe(`${host} without the documented deny rules`, () => {
    const site = serverAndBrowser({ name: `host-${host}-open`, host, settings: SETTINGS, hostOptions: ['--no-deny'] });

    test('serves the settings file and the data folder, and the self-check fails naming the fix', { timeout: 60_000 }, async () => {
      await twoPeersAndAMessage(site.server);
      const settings = await fetchRaw(site.server.origin, privatePaths(site.server)[0]);
      assert.equal(settings.status, 200, 'the server hands out webrtc.json: the check below must see it');
      const rows = await selfCheck(site.browser, site.server);
      assert.equal(rows['Private files'].verdict, 'failure', rows['Private files'].text);
      assert.match(rows['Private files'].text, /webrtc\.json/);
      assert.match(rows['Private files'].text, new RegExp(host));
      assert.match(rows['Private files'].text, /data_dir/);
    });
  });
}

describe('lighttpd without streaming (its default)', () => {
  const site = serverAndBrowser({ name: 'host-lighttpd-buffers', host: 'lighttpd', settings: SETTINGS, hostOptions: ['--no-stream'] });

  test('the clients notice the buffering within seconds, switch to polling, and connect', { timeout: 90_000 }, async () => {
    await withTwoPeers(site.browser, site.server, roomName('buffered'), async (peers) => {
      for (const peer of peers) {
        const polling = await peer.page.evaluate(() => window.webrtcCgi.polling);
        assert.equal(polling, true, `${peer.name} switched to polling`);
        const [first] = await peer.page.evaluate(() => window.webrtcCgi.streams);
        assert.ok(first.byeAt - first.helloAt < 1_000 && first.hold <= 3, `the first stream was short: ${JSON.stringify(first)}`);
      }
    });
    const rows = await selfCheck(site.browser, site.server);
    assert.equal(rows.Streaming.verdict, 'failure');
    assert.match(rows.Streaming.text, /stream-response-body = 2/);
  });
});
