// Doorkeeper election (www/mesh/doorkeeper.js): exactly one peer of a connected room keeps the
// held stream, every peer reaches the same answer from the shared join order, and when the
// doorkeeper leaves or its connections fail, the next one takes over at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJoinOrder, encodeMeshNote, isDoorkeeper, parseMeshNote } from '../../www/mesh/doorkeeper.js';

/**
 * The doorkeepers of a room, as each peer computes them for itself.
 * @param {string[]} order
 * @param {(x: string, y: string) => boolean} linked symmetric
 */
function doorkeepers(order, linked) {
  return order.filter((self) => isDoorkeeper(order, self, (peer) => linked(self, peer)));
}

const everyone = () => true;

test('in a fully connected room exactly one peer, the oldest, is the doorkeeper', () => {
  for (const size of [1, 2, 3, 6]) {
    const order = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].slice(0, size);
    assert.deepEqual(doorkeepers(order, everyone), ['p1'], `room of ${size}`);
  }
});

test('every peer derives the same order from what it was told', () => {
  // p1 was first; p2 joined (p1 heard it); p3 joined (p1 and p2 heard it).
  const seenBy = { p1: createJoinOrder(), p2: createJoinOrder(), p3: createJoinOrder() };
  seenBy.p1.reset([], 'p1');
  seenBy.p1.joined('p2');
  seenBy.p2.reset(['p1'], 'p2');
  seenBy.p1.joined('p3');
  seenBy.p2.joined('p3');
  seenBy.p3.reset(['p1', 'p2'], 'p3');
  seenBy.p3.joined('p2'); // a duplicate join changes nothing
  for (const order of Object.values(seenBy)) assert.deepEqual(order.list(), ['p1', 'p2', 'p3']);
});

test('when the doorkeeper leaves, the next oldest takes over and no one else does', () => {
  const order = createJoinOrder();
  order.reset(['p1', 'p2', 'p3'], 'p4');
  order.left('p1');
  assert.deepEqual(doorkeepers(order.list(), everyone), ['p2']);
});

test('when the doorkeeper\'s connections fail, the oldest of the others takes over', () => {
  const order = ['p1', 'p2', 'p3', 'p4'];
  const linked = (x, y) => x !== 'p1' && y !== 'p1';
  // p1 still counts itself (it may only have lost its network); p2 covers the others.
  assert.deepEqual(doorkeepers(order, linked), ['p1', 'p2']);
});

test('a peer cut off from one older peer keeps its own stream; everyone else stays covered', () => {
  const order = ['p1', 'p2', 'p3'];
  const broken = new Set(['p1|p2', 'p2|p1']);
  const linked = (x, y) => !broken.has(`${x}|${y}`);
  assert.deepEqual(doorkeepers(order, linked), ['p1', 'p2']);
});

test('a peer missing from its own order keeps its stream rather than risk a missed join', () => {
  assert.equal(isDoorkeeper(['p1', 'p2'], 'p9', everyone), true);
});

test('mesh notes round-trip and malformed ones are refused', () => {
  assert.deepEqual(parseMeshNote(encodeMeshNote('join', 'k3J9xQ0aZr_1')), { kind: 'mesh', note: 'join', peer: 'k3J9xQ0aZr_1' });
  assert.deepEqual(parseMeshNote(encodeMeshNote('bye', 'a7Yp2Lw0Qe9s'))?.note, 'bye');
  for (const bad of ['', 'null', '{"kind":"mesh","note":"kick","peer":"x"}', '{"kind":"mesh","note":"join","peer":"a b"}',
    '{"kind":"chat","text":"hi"}', `{"kind":"mesh","note":"join","peer":"${'x'.repeat(300)}"}`, 42]) {
    assert.equal(parseMeshNote(bad), null, String(bad));
  }
});
