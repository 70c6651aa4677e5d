import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScreenShare } from '../../www/rtc/screen-share.js';

/** mediaDevices whose getDisplayMedia fails with an error of this name. */
function failingWith(name) {
  return { getDisplayMedia: async () => { throw Object.assign(new Error(name), { name }); } };
}

function share(mediaDevices) {
  const failures = [];
  let changes = 0;
  const screen = createScreenShare(mediaDevices, async () => { changes += 1; }, (text) => failures.push(text));
  return { screen, failures, changes: () => changes };
}

test('a refused or cancelled screen share says nothing', async () => {
  const { screen, failures, changes } = share(failingWith('NotAllowedError'));
  const warn = console.warn;
  console.warn = () => {};
  try {
    await screen.toggle();
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(failures, []);
  assert.equal(changes(), 0);
  assert.equal(screen.track(), null);
});

test('a screen share that fails otherwise tells the user, and a browser without it too', async () => {
  const warn = console.warn;
  console.warn = () => {};
  try {
    const busy = share(failingWith('NotReadableError'));
    await busy.screen.toggle();
    assert.equal(busy.failures.length, 1);
    assert.match(busy.failures[0], /could not be captured/);
    const phone = share({});
    await phone.screen.toggle();
    assert.equal(phone.failures.length, 1);
    assert.match(phone.failures[0], /could not share your screen/);
    assert.equal(phone.screen.track(), null);
  } finally {
    console.warn = warn;
  }
});
