// The event stream through Apache with mod_deflate on, as shared hosts run it: with the shipped
// .htaccess an event posted while the stream is held reaches the reader at once, uncompressed;
// without it, mod_deflate holds everything back until the response ends (the control that
// shows this test can tell the difference).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { join, openEventStream, post, roomName, startServer } from './lib/server.mjs';

const HOLD_SECONDS = 6;

/**
 * A joins alone and holds an event stream asking for gzip, with nothing pending (a quiet
 * stream: only `retry` and `hello`, which is exactly what mod_deflate stalls on). Then B joins
 * and, one second into the stream, posts to A. Returns the stream (events with arrival times)
 * and when the post was answered. `accept` is the Accept header: EventSource always sends
 * text/event-stream, other readers may not, so the query string alone must be enough too.
 */
async function postWhileHeld(url, accept = 'text/event-stream') {
  const room = roomName('stream');
  const a = await join(url, room);
  const stream = openEventStream(url, room, a, {
    hold: HOLD_SECONDS,
    headers: { Accept: accept, 'Accept-Encoding': 'gzip, deflate, br' },
  });
  const opened = Date.now();
  // Give a streaming server time to send `hello`; a buffering one sends nothing yet anyway.
  await stream.waitFor((event) => event.event === 'hello', 1500).catch(() => undefined);
  const b = await join(url, room);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - opened))));
  const marker = `streamed-${Date.now()}`;
  await post(url, room, b, { to: a.peer, type: 'chat', data: { text: marker } });
  const postedAtMs = Date.now() - opened;
  await stream.finished;
  const message = stream.events.find((event) => event.json?.type === 'chat');
  return { stream, postedAtMs, message, marker, b };
}

describe('event stream through Apache with mod_deflate', () => {
  let server;
  let control;
  before(async () => {
    server = await startServer({ name: 'streaming', settings: { hold_seconds: 10, peer_timeout_seconds: 30 } });
    control = await startServer({
      name: 'streaming-no-htaccess',
      htaccess: false,
      settings: { hold_seconds: 10, peer_timeout_seconds: 30 },
    });
  });
  after(() => {
    server?.stop();
    control?.stop();
  });

  for (const accept of ['text/event-stream', '*/*']) {
    test(`with the shipped .htaccess, a posted event arrives at once and uncompressed (Accept: ${accept})`, async () => {
      const { stream, postedAtMs, message, marker, b } = await postWhileHeld(server.url, accept);
      assert.equal(stream.status, 200);
      assert.match(stream.headers['content-type'] ?? '', /^text\/event-stream/);
      assert.equal(stream.encoding, undefined, 'the event stream must not be compressed');

      const hello = stream.events.find((event) => event.event === 'hello');
      assert.ok(hello, 'the stream starts with a hello event');
      assert.ok(hello.atMs < 1000, `hello arrived after ${hello.atMs} ms, so the start of a quiet stream was held back`);
      assert.equal(hello.json?.hold, HOLD_SECONDS);
      assert.ok(stream.events.some((event) => event.retry > 0), 'the stream sets a retry delay');

      assert.ok(message, `the posted message reached the reader: ${JSON.stringify(stream.events)}`);
      assert.deepEqual(message.json, { from: b.peer, type: 'chat', data: { text: marker } });
      assert.match(message.id ?? '', /^\d+$/, 'each message carries an id');
      const delay = message.atMs - postedAtMs;
      assert.ok(delay < 1000, `the message took ${delay} ms after the post to arrive`);
      assert.ok(
        message.atMs < HOLD_SECONDS * 1000 - 2000,
        `the message arrived ${message.atMs} ms into a ${HOLD_SECONDS} s hold: buffered`,
      );

      const bye = stream.events.find((event) => event.event === 'bye');
      assert.ok(bye, 'the held response ends with a bye event');
      assert.ok(bye.atMs >= HOLD_SECONDS * 1000 - 500, `bye came after ${bye.atMs} ms, before the hold ended`);
    });
  }

  test('control: without the .htaccess the same stream is compressed and held back', async () => {
    const { stream, postedAtMs, message } = await postWhileHeld(control.url);
    assert.equal(stream.status, 200);
    assert.equal(stream.encoding, 'gzip', 'mod_deflate compresses the stream when not told otherwise');
    assert.ok(message, 'the message still arrives, at the end');
    assert.ok(
      message.atMs > HOLD_SECONDS * 1000 - 1000,
      `the message arrived after ${message.atMs} ms (posted at ${postedAtMs} ms), so nothing buffered it`,
    );
  });
});
