// What the page remembers in localStorage between visits: the own name (asked by the name
// card on arrival, changed in the device dialog) and the chosen video upload budget. The
// name goes only to the peers (through the call), never to the server. Storage that the
// browser refuses (privacy settings) is no error: the name is asked again, the default
// budget holds.
'use strict';

import { parseBudget, UPLINK_STORAGE_KEY } from '../ux/bitrate.js';
import { loadName, saveName } from '../ux/display-name.js';
import { createNameCard } from './name-card.js';

/**
 * @typedef {import('./tiles.js').Page} Page
 * @typedef {ReturnType<typeof import('../rtc/call.js').createCall>} Call
 */

/**
 * @param {Window} win
 * @returns {Storage | null}
 */
export function openStorage(win) {
  try {
    return win.localStorage;
  } catch {
    // Storage refused (privacy settings): the name is asked again next time.
    return null;
  }
}

/**
 * Asks for the name once (prefilled from the last visit) and lets the device dialog change
 * it during the call.
 * @param {Page} page
 * @param {Storage | null} storage
 * @param {Call} call
 * @param {(name: string) => void} showOwn Shows the own name, as cleaned, on the own tile.
 */
export function bindName(page, storage, call, showOwn) {
  const field = /** @type {HTMLInputElement} */ (page.$('name-field'));
  /** @param {string} raw */
  const rename = (raw) => {
    const clean = call.setName(raw);
    saveName(storage, clean);
    showOwn(clean);
    field.value = clean;
    card.hide();
  };
  const initial = loadName(storage);
  const card = createNameCard(page.doc, { initial, onName: rename });
  page.$('stage').append(card.root);
  field.value = initial;
  showOwn(call.setName(initial));
  field.addEventListener('change', () => rename(field.value));
}

/**
 * The video upload budget: chosen in the device dialog, remembered in localStorage.
 * @param {Page} page
 * @param {Storage | null} storage
 * @param {Call} call
 */
export function bindUplink(page, storage, call) {
  const select = /** @type {HTMLSelectElement} */ (page.$('uplink-select'));
  /** @param {string | null} raw */
  const apply = (raw) => {
    const bits = parseBudget(raw);
    select.value = String(bits);
    call.setUplinkBudget(bits);
    return bits;
  };
  let remembered = null;
  try {
    remembered = storage?.getItem(UPLINK_STORAGE_KEY) ?? null;
  } catch {
    // As for the name: storage refused, the default holds.
  }
  apply(remembered);
  select.addEventListener('change', () => {
    const bits = apply(select.value);
    try {
      storage?.setItem(UPLINK_STORAGE_KEY, String(bits));
    } catch {
      // Not remembered; it still holds for this call.
    }
  });
}
