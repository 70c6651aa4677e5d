import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTypingTarget, shortcutFor, SHORTCUTS } from '../../www/ux/shortcuts.js';

const body = { tagName: 'BODY' };
const press = (key, extra = {}) => shortcutFor({ key, target: body, ...extra });

test('shortcuts: the single letters, either case', () => {
  assert.equal(press('m'), 'mic');
  assert.equal(press('M', { shiftKey: true }), null, 'Shift+M is not M');
  assert.equal(press('v'), 'camera');
  assert.equal(press('s'), 'share');
  assert.equal(press('c'), 'chat');
  assert.equal(press('?', { shiftKey: true }), 'help');
  assert.equal(press('?'), 'help', 'layouts where ? needs no Shift');
  assert.equal(press('x'), null);
  assert.equal(press('Enter'), null);
});

test('shortcuts: leaving needs Shift, so a stray L does not end the call', () => {
  assert.equal(press('l'), null);
  assert.equal(press('L', { shiftKey: true }), 'leave');
});

test('shortcuts: never while typing, composing, repeating or with a browser modifier', () => {
  for (const target of [
    { tagName: 'INPUT', type: 'text' }, { tagName: 'INPUT' }, { tagName: 'input', type: 'search' },
    { tagName: 'TEXTAREA' }, { tagName: 'SELECT' }, { tagName: 'DIV', isContentEditable: true },
  ]) {
    assert.equal(shortcutFor({ key: 'm', target }), null, JSON.stringify(target));
    assert.equal(isTypingTarget(target), true);
  }
  // A checkbox or a button takes no letters.
  assert.equal(shortcutFor({ key: 'm', target: { tagName: 'INPUT', type: 'checkbox' } }), 'mic');
  assert.equal(shortcutFor({ key: 'm', target: { tagName: 'BUTTON' } }), 'mic');
  assert.equal(press('m', { ctrlKey: true }), null);
  assert.equal(press('m', { metaKey: true }), null);
  assert.equal(press('m', { altKey: true }), null);
  assert.equal(press('m', { repeat: true }), null, 'holding the key toggles once');
  assert.equal(press('m', { isComposing: true }), null);
  assert.equal(press('m', { defaultPrevented: true }), null);
  assert.equal(isTypingTarget(null), false);
});

test('shortcuts: Escape closes the help overlay, and is left alone otherwise', () => {
  assert.equal(press('Escape', {}), null);
  assert.equal(shortcutFor({ key: 'Escape', target: body }, { overlayOpen: true }), 'close');
});

test('shortcuts: the help list names every action once, with its keys', () => {
  const actions = SHORTCUTS.map((shortcut) => shortcut.action);
  assert.deepEqual([...new Set(actions)].sort(), ['camera', 'chat', 'help', 'leave', 'mic', 'share']);
  for (const shortcut of SHORTCUTS) {
    assert.ok(shortcut.keys && shortcut.description, shortcut.action);
    assert.equal(press(shortcut.key, { shiftKey: shortcut.shift }), shortcut.action, shortcut.keys);
  }
});
