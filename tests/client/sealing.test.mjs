import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { deriveRoomKey, fragmentOf, newSecret, secretFromFragment } from '../../www/net/seal.js';
import { createSealing } from '../../www/net/sealing.js';

const crypto = /** @type {any} */ (webcrypto);

async function pair() {
  const secret = secretFromFragment(fragmentOf(newSecret(crypto)));
  const key = await deriveRoomKey(crypto.subtle, secret, 'room1');
  const reports = { alice: [], bob: [] };
  const alice = createSealing({ crypto, key, room: 'room1', onTampered: (reason) => reports.alice.push(reason) });
  const bob = createSealing({ crypto, key, room: 'room1', onTampered: (reason) => reports.bob.push(reason) });
  sides = [alice, bob];
  return { alice, bob, reports };
}

/** Waits for every queued seal and open of both sides to finish (WebCrypto answers later on a busy machine). */
let sides = [];
const drain = () => Promise.all(sides.map((side) => side.idle()));

test('messages sealed one after another arrive opened, complete and in order', async () => {
  const { alice, bob, reports } = await pair();
  const posts = [];
  for (let n = 1; n <= 20; n += 1) alice.seal('alice', { to: 'bob', type: n % 2 ? 'candidates' : 'description', data: { n } }, (post) => posts.push(post));
  await drain();
  assert.equal(posts.length, 20);
  assert.ok(posts.every((post) => post.type === 'sealed' && post.to === 'bob'));
  assert.doesNotMatch(JSON.stringify(posts), /candidates|description|"n"/);
  const received = [];
  for (const post of posts) bob.open('bob', { from: 'alice', type: post.type, data: post.data }, (message) => received.push(message));
  await drain();
  assert.deepEqual(received.map((message) => message.data.n), [...Array(20).keys()].map((n) => n + 1));
  assert.equal(received[1].type, 'description');
  assert.equal(received[1].from, 'alice');
  assert.deepEqual(reports.bob, []);
});

test('in a sealed room only the server\'s join and leave pass unsealed', async () => {
  const { bob, reports } = await pair();
  const received = [];
  bob.open('bob', { from: 'carol', type: 'join' }, (message) => received.push(message));
  bob.open('bob', { from: 'carol', type: 'description', data: { type: 'offer', sdp: 'v=0' } }, (message) => received.push(message));
  bob.open('bob', { from: 'carol', type: 'leave' }, (message) => received.push(message));
  await drain();
  assert.deepEqual(received.map((message) => message.type), ['join', 'leave']);
  assert.equal(reports.bob.length, 1, 'the forged offer is reported');
});

test('an altered, re-addressed or replayed message is dropped and reported', async () => {
  const { alice, bob, reports } = await pair();
  const posts = [];
  alice.seal('alice', { to: 'bob', type: 'description', data: 1 }, (post) => posts.push(post));
  alice.seal('alice', { to: 'carol', type: 'description', data: 2 }, (post) => posts.push(post));
  await drain();
  const [forBob, forCarol] = posts;
  const received = [];
  const deliver = (message) => received.push(message.data);
  const bytes = Buffer.from(forBob.data.sealed, 'base64');
  bytes[20] ^= 0x40;
  bob.open('bob', { from: 'alice', type: 'sealed', data: { sealed: bytes.toString('base64') } }, deliver);
  bob.open('bob', { from: 'alice', type: 'sealed', data: forCarol.data }, deliver);
  bob.open('bob', { from: 'dave', type: 'sealed', data: forBob.data }, deliver);
  bob.open('bob', { from: 'alice', type: 'sealed', data: forBob.data }, deliver);
  bob.open('bob', { from: 'alice', type: 'sealed', data: forBob.data }, deliver);
  await drain();
  assert.deepEqual(received, [1], 'only the genuine message, once');
  assert.equal(reports.bob.length, 4);
  assert.match(reports.bob.at(-1), /replayed/);
});
