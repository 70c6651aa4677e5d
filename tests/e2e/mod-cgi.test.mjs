// The same executable under Apache's prefork MPM with mod_cgi, which some hosts still run
// instead of mod_cgid. The two modules wait for a finished CGI differently, and the process
// that answers ends differently from an ordinary CGI (see ARCHITECTURE.md, "Ending a
// request"), so the answers, a held stream and a whole call are checked here too.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { withTwoPeers } from './lib/client.mjs';
import { serverAndBrowser } from './lib/fixture.mjs';
import { join, openEventStream, post, roomName } from './lib/server.mjs';

describe('under the prefork MPM with mod_cgi', () => {
  const site = serverAndBrowser({ name: 'mod-cgi', cgi: 'cgi', settings: { max_posts_per_second: 1000 } });
  const server = () => site.server;

  test('the server really runs mod_cgi', () => {
    const config = fs.readFileSync(path.join(server().dir, 'conf/httpd.conf'), 'utf8');
    assert.match(config, /mod_cgi\.so/);
    assert.match(config, /mod_mpm_prefork\.so/);
    assert.doesNotMatch(config, /mod_cgid\.so/);
  });

  test('every post on a kept-alive connection is answered and delivered once, in order', { timeout: 60_000 }, async () => {
    const room = roomName('cgi');
    const a = await join(server().url, room);
    const b = await join(server().url, room);
    const stream = openEventStream(server().url, room, a, { hold: 5 });
    await stream.waitFor((event) => event.event === 'hello', 5000);
    const count = 40;
    for (let n = 1; n <= count; n += 1) {
      const answer = await post(server().url, room, b, { to: a.peer, type: 'note', data: { n } });
      assert.deepEqual(answer, { stored: 1 });
    }
    await stream.waitFor((event) => event.json?.data?.n === count, 10_000);
    const numbers = stream.events.filter((event) => event.json?.type === 'note').map((event) => event.json.data.n);
    assert.deepEqual(numbers, Array.from({ length: count }, (_, i) => i + 1));
    await stream.finished;
    assert.ok(stream.events.some((event) => event.event === 'bye'), 'the held stream ended on its own');
  });

  test('two browsers connect', { timeout: 90_000 }, async () => {
    const [aId, bId] = await withTwoPeers(site.browser, site.server, roomName('cgi-call'));
    assert.notEqual(aId, bId);
  });
});
