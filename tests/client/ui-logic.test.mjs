import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseGrid, stageLayout } from '../../www/view/layout.js';
import { cleanChatText, encodeChat, parsePeerMessage } from '../../www/rtc/chat.js';
import { decodePeerState, encodePeerState } from '../../www/ux/peer-state.js';
import { classifyMediaError, describeMediaProblem } from '../../www/rtc/media.js';
import { peerHue, peerLabel } from '../../www/view/names.js';

test('grid: two people side by side on a wide screen, stacked on a phone', () => {
  assert.equal(chooseGrid(2, 1200, 600, { gap: 0 }).columns, 2);
  assert.equal(chooseGrid(2, 360, 600, { gap: 0 }).columns, 1);
});

test('grid: six tiles on a desktop use 3 x 2, and tiles never exceed the stage', () => {
  const grid = chooseGrid(6, 1200, 650, { gap: 10 });
  assert.deepEqual([grid.columns, grid.rows], [3, 2]);
  assert.ok(grid.columns * grid.tileWidth + 2 * 10 <= 1200);
  assert.ok(grid.rows * grid.tileHeight + 10 <= 650);
});

test('grid: a single tile fills the stage up to the widest allowed shape', () => {
  const wide = chooseGrid(1, 2000, 500, { gap: 0 });
  assert.equal(wide.tileHeight, 500);
  assert.ok(Math.abs(wide.tileWidth - 500 * 16 / 9) < 1e-6);
  const phone = chooseGrid(1, 360, 560, { gap: 0 });
  assert.deepEqual([phone.tileWidth, phone.tileHeight], [360, 480]);
});

/** @param {Partial<import('../../www/view/layout.js').StageInput>} input */
const stageFor = (input) =>
  stageLayout({ remoteCount: 0, callState: 'connected', pinned: 'none', width: 1200, height: 650, ...input });

test('stage: alone in a room, the waiting card sits beside the self view', () => {
  const stage = stageFor({ callState: 'waiting' });
  assert.deepEqual([stage.waiting, stage.ended, stage.selfHidden, stage.pip], [true, false, false, false]);
  assert.equal(stage.grid.columns, 2);
  assert.equal(stageFor({ callState: 'joining' }).waiting, false, 'no card before the join is answered');
  assert.equal(stageFor({ callState: 'error' }).waiting, false);
});

test('stage: with one other person the self view goes into a corner', () => {
  const stage = stageFor({ remoteCount: 1 });
  assert.equal(stage.pip, true);
  assert.equal(stage.grid.columns, 1);
  assert.equal(stage.spot, null);
  assert.equal(stageFor({ remoteCount: 2 }).pip, false);
});

test('stage: after leaving, only the "you left" panel shows, and a pinned self view is no spotlight', () => {
  const stage = stageFor({ callState: 'left', pinned: 'self' });
  assert.deepEqual([stage.waiting, stage.ended, stage.selfHidden], [false, true, true]);
  assert.equal(stage.spot, null);
});

test('stage: a pinned tile takes the stage above a strip of the others', () => {
  const stage = stageFor({ remoteCount: 2, pinned: 'remote' });
  assert.ok(stage.spot);
  assert.ok(stage.spot.height > stage.grid.tileHeight, 'the pinned tile is the large one');
  assert.ok(stage.spot.height + stage.grid.tileHeight + stage.grid.gap <= 650);
  assert.ok(stage.grid.width >= stage.spot.width);
  assert.equal(stage.pip, false);
  assert.ok(Number.isInteger(stage.grid.tileWidth) && Number.isInteger(stage.spot.width));
});

test('stage: a narrow screen has smaller gaps', () => {
  assert.equal(stageFor({ width: 360, height: 640 }).grid.gap, 6);
  assert.equal(stageFor({}).grid.gap, 10);
});

test('chat: text is trimmed, capped, and empty lines are not sent', () => {
  assert.equal(cleanChatText('  hi  '), 'hi');
  assert.equal(cleanChatText('   '), '');
  assert.equal(cleanChatText('x'.repeat(5000)).length, 2000);
  assert.deepEqual(parsePeerMessage(encodeChat('<img src=x onerror=alert(1)>')), {
    kind: 'chat', text: '<img src=x onerror=alert(1)>',
  });
});

test('chat: malformed or hostile peer messages are dropped', () => {
  for (const bad of [null, 42, '', 'not json', '{}', '{"kind":"chat"}', '{"kind":"chat","text":"   "}',
    '{"kind":"chat","text":5}', '{"kind":"html","text":"x"}', JSON.stringify({ kind: 'chat', text: 'x'.repeat(9000) })]) {
    assert.equal(parsePeerMessage(bad), null, String(bad));
  }
});

test('chat: state notes carry booleans only, and are not chat', () => {
  assert.deepEqual(decodePeerState(encodePeerState({ mic: false, camera: true, sharing: false })), {
    name: '', mic: false, camera: true, sharing: false,
  });
  assert.deepEqual(decodePeerState('{"kind":"state","mic":"yes","camera":1}'), {
    name: '', mic: false, camera: false, sharing: false,
  });
  assert.equal(parsePeerMessage(encodePeerState({ mic: true, camera: true, sharing: false })), null);
});

test('peers get stable names and colours', () => {
  assert.equal(peerLabel('k3J9xQ0aZr_1'), 'Guest k3J9');
  assert.equal(peerHue('k3J9xQ0aZr_1'), peerHue('k3J9xQ0aZr_1'));
  assert.ok(peerHue('a') >= 0 && peerHue('a') < 360);
});

test('media errors become problems a user can act on', () => {
  const named = (name) => Object.assign(new Error(name), { name });
  assert.equal(classifyMediaError(named('NotAllowedError')), 'denied');
  assert.equal(classifyMediaError(named('NotFoundError')), 'nodevice');
  assert.equal(classifyMediaError(named('NotReadableError')), 'busy');
  assert.equal(classifyMediaError(named('TypeError')), 'other');
  assert.equal(classifyMediaError(undefined), 'other');
});

test('media messages say what is missing and what that means', () => {
  assert.equal(describeMediaProblem(null, { audio: true, video: true }), null);
  assert.match(describeMediaProblem('insecure', { audio: false, video: false }), /https:\/\//);
  assert.match(describeMediaProblem('denied', { audio: true, video: false }), /camera.*audio only/s);
  assert.match(describeMediaProblem('nodevice', { audio: false, video: false }), /No camera and microphone.*watch/s);
  assert.match(describeMediaProblem('nodevice', { audio: false, video: true }), /No microphone.*cannot hear/s);
});
