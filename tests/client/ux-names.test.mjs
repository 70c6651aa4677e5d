import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanName, displayName, graphemes, initialsOf, loadName, saveName, NAME_MAX_GRAPHEMES, NAME_STORAGE_KEY } from '../../www/ux/display-name.js';
import { decodePeerState, encodePeerState, stateChanged } from '../../www/ux/peer-state.js';

/** @param {unknown} raw @param {string} expected */
function check(raw, expected) {
  assert.equal(cleanName(raw), expected, JSON.stringify(raw));
}

test('names: spaces are trimmed and collapsed, line breaks and tabs included', () => {
  check('  Ada   Lovelace  ', 'Ada Lovelace');
  check('Ada\n\tLovelace\u2028x', 'Ada Lovelace x');
  check('\u00a0\u3000Ada\u00a0', 'Ada');
});

test('names: control, bidi and zero-width characters are removed', () => {
  // U+202E would show "evil" reversed and flip the text after the name.
  check('a\u202eevil', 'aevil');
  check('x\u0000\u0007\u001b[31my', 'x[31my');
  check('Bob\u2066\u2069\u200e\u200f\u061c', 'Bob');
  check('Ann\u200b\u200b\ufeff Lee', 'Ann Lee');
  check('\u202e\u200b\n', '');
});

test('names: emoji sequences survive whole, stacked marks are cut to two', () => {
  check('👩‍💻 Grace', '👩‍💻 Grace');
  check('🇫🇷 Émile', '🇫🇷 Émile');
  const zalgo = cleanName('Z\u0300\u0301\u0302\u0303\u0304\u0305oe');
  assert.ok([...zalgo].filter((c) => /\p{M}/u.test(c)).length <= 2, zalgo);
  assert.ok(zalgo.endsWith('oe'));
  check('\u0301\u0302abc', 'abc');
});

test('names: long names are cut by grapheme with an ellipsis, never inside an emoji', () => {
  const long = cleanName('x'.repeat(100));
  assert.equal([...long].length, NAME_MAX_GRAPHEMES);
  assert.ok(long.endsWith('\u2026'));
  const family = '👨‍👩‍👧‍👦';
  const emojis = cleanName(family.repeat(40));
  assert.equal(emojis, family.repeat(NAME_MAX_GRAPHEMES - 1) + '\u2026');
  check('x'.repeat(NAME_MAX_GRAPHEMES), 'x'.repeat(NAME_MAX_GRAPHEMES));
  // A megabyte from a hostile peer is cut quickly to the same bound.
  assert.equal([...cleanName('y'.repeat(1_000_000))].length, NAME_MAX_GRAPHEMES);
});

test('names: anything but a string is no name; the fallback is the guest label', () => {
  for (const bad of [null, undefined, 42, {}, ['Ada']]) check(bad, '');
  assert.equal(displayName('', 'k3J9xQ0aZr_1'), 'Guest k3J9');
  assert.equal(displayName('Ada', 'k3J9xQ0aZr_1'), 'Ada');
  assert.equal(initialsOf('ada lovelace king'), 'AL');
  assert.equal(initialsOf('👩‍💻 Grace'), '👩‍💻G');
  assert.equal(initialsOf(''), '?');
});

test('names: remembered in storage, and a refusing storage is no error', () => {
  const store = new Map();
  const storage = {
    getItem: (key) => store.get(key) ?? null,
    setItem: (key, value) => store.set(key, value),
    removeItem: (key) => store.delete(key),
  };
  assert.equal(loadName(storage), '');
  assert.equal(saveName(storage, '  Ada \u202e '), true);
  assert.equal(store.get(NAME_STORAGE_KEY), 'Ada');
  assert.equal(loadName(storage), 'Ada');
  saveName(storage, '   ');
  assert.equal(store.has(NAME_STORAGE_KEY), false);
  store.set(NAME_STORAGE_KEY, 'x\u0000y');
  assert.equal(loadName(storage), 'xy', 'a tampered stored name is cleaned too');
  const refusing = {
    getItem: () => { throw new Error('SecurityError'); },
    setItem: () => { throw new Error('QuotaExceededError'); },
    removeItem: () => { throw new Error('SecurityError'); },
  };
  assert.equal(loadName(refusing), '');
  assert.equal(saveName(refusing, 'Ada'), false);
  assert.equal(loadName(null), '');
});

test('peer state: round trip, with the name cleaned on both ends', () => {
  const wire = encodePeerState({ name: ' Ada\u202e ', mic: true, camera: false, sharing: true });
  assert.deepEqual(JSON.parse(wire), { kind: 'state', name: 'Ada', mic: true, camera: false, sharing: true });
  assert.deepEqual(decodePeerState(wire), { name: 'Ada', mic: true, camera: false, sharing: true });
  // A hand-made note with a hostile name is cleaned on arrival.
  assert.deepEqual(decodePeerState(JSON.stringify({ kind: 'state', name: 'x\u0000'.repeat(50), mic: true })), {
    name: cleanName('x'.repeat(50)), mic: true, camera: false, sharing: false,
  });
});

test('peer state: malformed notes are refused, and flags are true only when exactly true', () => {
  for (const bad of [null, 42, '', 'nope', '[]', '{}', '{"kind":"chat","text":"x"}', '{"kind":"state","name":5}',
    '{"kind":"state","name":{"a":1}}', JSON.stringify({ kind: 'state', name: 'x'.repeat(3000) })]) {
    assert.equal(decodePeerState(bad), null, String(bad));
  }
  assert.deepEqual(decodePeerState('{"kind":"state","mic":"yes","camera":1,"sharing":null}'), {
    name: '', mic: false, camera: false, sharing: false,
  });
  // A note from before names existed still reads.
  assert.deepEqual(decodePeerState('{"kind":"state","mic":true,"camera":true,"sharing":false}'), {
    name: '', mic: true, camera: true, sharing: false,
  });
});

test('peer state: only a change in what is shown counts as a change', () => {
  const state = { name: 'Ada', mic: true, camera: true, sharing: false };
  assert.equal(stateChanged(null, state), true);
  assert.equal(stateChanged(state, { ...state }), false);
  assert.equal(stateChanged(state, { ...state, name: 'Ada L' }), true);
  assert.equal(stateChanged(state, { ...state, mic: false }), true);
});

test('graphemes: plain ASCII splits per character, anything else per user-perceived character', () => {
  assert.deepEqual(graphemes('Ann-Marie 2'), ['A', 'n', 'n', '-', 'M', 'a', 'r', 'i', 'e', ' ', '2']);
  assert.deepEqual(graphemes(''), []);
  assert.deepEqual(graphemes('e\u0301a'), ['e\u0301', 'a'], 'a combining accent stays on its letter');
  assert.deepEqual(graphemes('\u{1F469}\u200D\u{1F4BB}!'), ['\u{1F469}\u200D\u{1F4BB}', '!'], 'a joined emoji is one');
  assert.deepEqual(graphemes('\u{1F1E9}\u{1F1EA}x'), ['\u{1F1E9}\u{1F1EA}', 'x'], 'a flag is one');
});
