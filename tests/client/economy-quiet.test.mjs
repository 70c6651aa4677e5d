// Quiet and loud (www/mesh/quiet.js, www/mesh/economy.js, www/mesh/poll.js): when a peer may
// give up its held stream, what makes it loud again, how the doorkeeper passes a join on, and
// the hold=0 polls a quiet peer makes instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createQuietness, wantsQuiet } from '../../www/mesh/quiet.js';
import { createEconomy } from '../../www/mesh/economy.js';
import { encodeMeshNote } from '../../www/mesh/doorkeeper.js';
import { createPoller, parseEventStream } from '../../www/mesh/poll.js';
import { fakeTimers, flushMicrotasks } from './fakes.mjs';

const linkedPeer = { linked: true, pending: false };
const settled = { capable: true, doorkeeper: false, busy: false, peers: [linkedPeer, linkedPeer] };

test('only a capable, idle, non-doorkeeper peer linked to everyone wants to be quiet', () => {
  assert.equal(wantsQuiet(settled), true);
  assert.equal(wantsQuiet({ ...settled, doorkeeper: true }), false, 'the doorkeeper holds the stream');
  assert.equal(wantsQuiet({ ...settled, capable: false }), false, 'no data channels, or a buffering host');
  assert.equal(wantsQuiet({ ...settled, busy: true }), false, 'own requests under way');
  assert.equal(wantsQuiet({ ...settled, peers: [] }), false, 'alone, it must hear the next join');
  assert.equal(wantsQuiet({ ...settled, peers: [linkedPeer, { linked: false, pending: false }] }), false, 'a newcomer or a failed connection');
  assert.equal(wantsQuiet({ ...settled, peers: [linkedPeer, { linked: true, pending: true }] }), false, 'a message under way');
});

function quietness(initial) {
  const timers = fakeTimers();
  let snapshot = initial;
  const modes = [];
  const q = createQuietness({ read: () => snapshot, apply: (mode) => modes.push(mode), timers, settleMs: 2000 });
  return { timers, modes, q, set: (next) => { snapshot = next; q.update(); } };
}

test('a settled peer goes quiet only after the conditions held for the settle time', () => {
  const { timers, modes, q } = quietness(settled);
  q.update();
  assert.equal(q.mode(), 'loud', 'starts loud');
  timers.advance(1999);
  assert.equal(q.mode(), 'loud');
  timers.advance(1);
  assert.deepEqual(modes, ['quiet']);
});

test('a newcomer makes a quiet peer loud at once, and it goes quiet again once connected', () => {
  const { timers, modes, q, set } = quietness(settled);
  q.update();
  timers.advance(2000);
  set({ ...settled, peers: [linkedPeer, linkedPeer, { linked: false, pending: false }] });
  assert.deepEqual(modes, ['quiet', 'loud'], 'loud without waiting');
  set({ ...settled, peers: [linkedPeer, linkedPeer, linkedPeer] });
  timers.advance(2000);
  assert.deepEqual(modes, ['quiet', 'loud', 'quiet']);
});

test('a connection that flaps within the settle time never makes the peer quiet', () => {
  const { timers, modes, q, set } = quietness(settled);
  q.update();
  timers.advance(1500);
  set({ ...settled, peers: [{ linked: false, pending: false }] });
  timers.advance(1000);
  set(settled);
  timers.advance(1500);
  assert.deepEqual(modes, [], 'the settle time starts again after every loud moment');
  timers.advance(500);
  assert.deepEqual(modes, ['quiet']);
});

/**
 * A room of peers, each with its own economy, all linked to each other over channels that
 * deliver at once. `streams` counts who holds an event stream.
 */
function room(ids) {
  const timers = fakeTimers();
  /** @type {Map<string, {economy: any, peers: Set<string>, linked: Set<string>, heard: string[]}>} */
  const members = new Map();
  /**
   * @param {string} id
   * @param {string[]} existing The peers already there (the join answer's list).
   */
  function add(id, existing) {
    const member = { economy: null, peers: new Set(existing), linked: new Set(existing), heard: [] };
    for (const peer of existing) {
      members.get(peer)?.peers.add(id);
      members.get(peer)?.linked.add(id);
    }
    member.economy = createEconomy({
      capable: () => true,
      peers: () => [...member.peers],
      linked: (peer) => member.linked.has(peer),
      pending: () => false,
      busy: () => false,
      broadcast: (text) => {
        for (const peer of member.linked) {
          const other = members.get(peer);
          const note = other?.economy.note(text, id);
          if (note?.note === 'join') {
            other.heard.push(note.peer);
            other.peers.add(note.peer);
            other.economy.update();
          }
          if (note && note.note !== 'join') {
            other.peers.delete(note.peer);
            other.linked.delete(note.peer);
            other.economy.update();
          }
        }
      },
      apply: () => {},
      settleMs: 2000,
      timers,
    });
    members.set(id, member);
    member.economy.joined(existing, id);
    return member;
  }
  for (let i = 0; i < ids.length; i += 1) add(ids[i], ids.slice(0, i));
  const loud = () => [...members].filter(([, m]) => m.economy.mode() === 'loud').map(([id]) => id);
  const settle = () => {
    for (const member of members.values()) member.economy.update();
    timers.advance(2000);
  };
  return { timers, members, add, loud, settle };
}

test('a settled call keeps exactly one stream: the doorkeeper\'s', () => {
  for (const size of [2, 3, 6]) {
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].slice(0, size);
    const { loud, settle } = room(ids);
    settle();
    assert.deepEqual(loud(), ['p1'], `room of ${size}`);
  }
});

test('the doorkeeper passes a join on, and everyone it reaches goes loud to read the newcomer\'s offer', () => {
  const { members, loud, settle } = room(['p1', 'p2', 'p3']);
  settle();
  // The server stores the join for everyone, but only the doorkeeper's held stream hears it now.
  members.get('p1').peers.add('p4');
  members.get('p1').economy.serverEvent({ from: 'p4', type: 'join' });
  assert.deepEqual(members.get('p2').heard, ['p4']);
  assert.deepEqual(members.get('p3').heard, ['p4']);
  assert.deepEqual(loud(), ['p1', 'p2', 'p3'], 'each reads its inbox at once on a held stream');
  assert.deepEqual(members.get('p3').economy.order(), ['p1', 'p2', 'p3', 'p4']);
});

test('a quiet peer does not pass joins on; its stream-holding doorkeeper does', () => {
  const { members, settle } = room(['p1', 'p2', 'p3']);
  settle();
  members.get('p2').economy.serverEvent({ from: 'p4', type: 'join' });
  assert.deepEqual(members.get('p3').heard, [], 'only the doorkeeper speaks for the room');
});

test('when the doorkeeper says goodbye, the next oldest takes the stream over at once', () => {
  const { members, loud, settle } = room(['p1', 'p2', 'p3']);
  settle();
  members.get('p1').economy.leaving();
  members.delete('p1');
  assert.deepEqual(loud(), ['p2'], 'no settle time: the hand-over has no gap');
  assert.equal(members.get('p2').economy.doorkeeper(), true);
  assert.equal(members.get('p3').economy.mode(), 'quiet');
});

test('only a peer itself can say it leaves, and a leave about a linked peer is ignored', () => {
  const { members, settle } = room(['p1', 'p2', 'p3']);
  settle();
  const p3 = members.get('p3').economy;
  assert.equal(p3.note(encodeMeshNote('bye', 'p2'), 'p1'), null, 'p1 cannot say p2 leaves');
  assert.equal(p3.note(encodeMeshNote('leave', 'p2'), 'p1'), null, 'p3 is still linked to p2');
  assert.equal(p3.note(encodeMeshNote('bye', 'p2'), 'p2')?.note, 'bye');
});

test('when the doorkeeper\'s connections fail, the next oldest goes loud and becomes doorkeeper', () => {
  const { members, loud, settle } = room(['p1', 'p2', 'p3']);
  settle();
  for (const id of ['p2', 'p3']) {
    members.get(id).linked.delete('p1');
    members.get(id).economy.update();
  }
  assert.deepEqual(loud(), ['p1', 'p2', 'p3'], 'a failed connection makes a peer loud');
  assert.equal(members.get('p2').economy.doorkeeper(), true);
  assert.equal(members.get('p3').economy.doorkeeper(), false, 'p2 covers it');
});

test('an event-stream body is read as a browser reads it', () => {
  const body = `:${' '.repeat(2048)}\nretry: 1000\n\nevent: hello\ndata: {"hold":0}\n\n`
    + 'id: 7\ndata: {"from":"a","type":"join"}\n\n'
    + 'id: 8\ndata: line one\ndata: line two\n\n'
    + ': comment\r\nevent: bye\r\ndata: {"t":1}\r\n\r\n'
    + 'id: 9\ndata: cut off';
  assert.deepEqual(parseEventStream(body), [
    { id: '', event: 'hello', data: '{"hold":0}' },
    { id: '7', event: 'message', data: '{"from":"a","type":"join"}' },
    { id: '8', event: 'message', data: 'line one\nline two' },
    { id: '8', event: 'bye', data: '{"t":1}' },
  ]);
});

test('the poller waits an interval between polls, never overlaps them, and stops at once', async () => {
  const timers = fakeTimers();
  const started = [];
  /** @type {(() => void)[]} */
  const finish = [];
  const poller = createPoller({
    intervalMs: 10000,
    timers,
    poll: () => new Promise((resolve) => {
      started.push(timers.now());
      finish.push(resolve);
    }),
  });
  poller.start();
  timers.advance(9999);
  assert.deepEqual(started, []);
  timers.advance(1);
  assert.deepEqual(started, [10000]);
  timers.advance(30000);
  assert.deepEqual(started, [10000], 'no second poll while the first is unanswered');
  finish.shift()();
  await flushMicrotasks();
  timers.advance(10000);
  assert.deepEqual(started, [10000, 50000]);
  poller.stop();
  finish.shift()();
  await flushMicrotasks();
  timers.advance(100000);
  assert.deepEqual(started, [10000, 50000], 'a poll that ends after stop schedules nothing');
  assert.equal(timers.pendingCount(), 0);
});
