// Abuse budgets through Apache, as a stranger with a script and a browser on another site
// meet them: held event streams stop at max_held_streams (the rest are answered at once with
// hold 0, and the site keeps answering), one peer holds one stream however many it opens,
// and a page of another origin cannot put a ghost peer in a room while the site's own page
// still joins.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { closePeers, launchBrowser, openPeer } from './lib/browser.mjs';
import { fetchRaw, join, openEventStream, roomName, startServer } from './lib/server.mjs';

const HOLD_SECONDS = 5;
const BUDGET = 3;

/** The hold a stream's hello announced. */
async function announcedHold(stream) {
  const hello = await stream.waitFor((event) => event.event === 'hello', 5000);
  return hello.json?.hold;
}

/** The message events (joins and leaves included) waiting for `who`, read without a hold. */
async function pending(url, room, who) {
  const stream = openEventStream(url, room, who, { hold: 0 });
  await stream.finished;
  assert.equal(stream.status, 200);
  return stream.events.filter((event) => event.event === 'message' && event.json);
}

describe('abuse budgets through Apache', () => {
  let server;
  before(async () => {
    server = await startServer({
      name: 'abuse',
      settings: {
        hold_seconds: HOLD_SECONDS,
        peer_timeout_seconds: 30,
        max_held_streams: BUDGET,
        max_held_streams_per_address: 10,
      },
    });
  });
  after(() => server?.stop());

  test('held streams stop at the budget; the others are answered at once and the site keeps answering', async () => {
    const room = roomName('budget');
    const peers = [];
    for (let n = 0; n < 6; n += 1) peers.push(await join(server.url, room));
    const streams = peers.map((who) => openEventStream(server.url, room, who));
    const holds = await Promise.all(streams.map(announcedHold));
    assert.equal(holds.filter((hold) => hold === HOLD_SECONDS).length, BUDGET, `holds: ${holds}`);
    assert.equal(holds.filter((hold) => hold === 0).length, 6 - BUDGET, `holds: ${holds}`);

    const page = await fetchRaw(server.origin, `${new URL(server.url).pathname}?room=${room}`);
    assert.equal(page.status, 200, 'the page still answers while the budget is in use');

    await Promise.all(streams.filter((_, index) => holds[index] === 0).map((stream) => stream.finished));
    for (const [index, stream] of streams.entries()) {
      if (holds[index] !== 0) continue;
      assert.ok(stream.endedAfterMs < 2000, `an unheld stream lasted ${stream.endedAfterMs} ms`);
      assert.ok(stream.events.some((event) => event.retry >= 1000), 'it tells the client to poll');
    }
    await Promise.all(streams.map((stream) => stream.finished));
  });

  test('one peer holds one stream, however many it opens', async () => {
    const room = roomName('flood');
    const who = await join(server.url, room);
    const streams = [];
    for (let n = 0; n < 6; n += 1) {
      streams.push(openEventStream(server.url, room, who));
      await announcedHold(streams[n]);
      // Time for the stream it replaced to end and free its slot.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const open = streams.filter((stream) => !stream.ended);
    assert.equal(open.length, 1, `${open.length} streams of one peer are still held`);
    assert.equal(open[0], streams[streams.length - 1], 'the newest one is');
    for (const stream of streams.slice(0, -1)) {
      assert.ok(stream.events.some((event) => event.event === 'bye'), 'a replaced stream ends with bye');
    }
    await Promise.all(streams.map((stream) => stream.finished));
  });

  test('a page of another origin cannot join; the site\'s own page can', async () => {
    const room = roomName('cross');
    const host = await join(server.url, room);
    const target = `${server.url}?mode=join&room=${room}`;
    const foreign = new URL(server.url);
    foreign.hostname = 'localhost';

    const browser = await launchBrowser();
    const people = [];
    try {
      const evil = await openPeer(browser, `${foreign}?asset=check.css`, { name: 'evil' });
      people.push(evil);
      const sent = await evil.page.evaluate(async (url) => {
        await fetch(url, { method: 'POST', mode: 'no-cors', body: '' });
        return true;
      }, target);
      assert.ok(sent, 'the cross-site request was sent');
      assert.deepEqual(await pending(server.url, room, host), [], 'no ghost peer joined');
      const log = fs.readFileSync(path.join(server.dir, 'logs/access.log'), 'utf8');
      const joins = log.split('\n').filter((line) => line.includes(`mode=join&room=${room}`));
      assert.equal(joins.length, 2, `the host's join and the cross-site one: ${joins.join('\n')}`);
      assert.match(joins[1], /" 403 /, 'the cross-site join reached the server and was refused');

      const own = await openPeer(browser, `${server.url}?asset=check.css`, { name: 'own' });
      people.push(own);
      const status = await own.page.evaluate(async (url) => {
        const response = await fetch(url, { method: 'POST', body: '' });
        return response.status;
      }, target);
      assert.equal(status, 200, 'the site\'s own origin joins');
      const events = await pending(server.url, room, host);
      assert.equal(events.filter((event) => event.json.type === 'join').length, 1);
    } finally {
      await closePeers(people);
      await browser.close();
    }
  });
});
