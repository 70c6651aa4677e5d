// The security panel: the top bar's badge (sealed or not), the dialog that explains what
// that means and lists each remote participant's safety code with the "compare this" text,
// and the warning when the host altered a message. Peer-provided values are written with
// textContent only.
'use strict';

import { peerLabel } from './names.js';

const SUMMARY = {
  sealed: 'This room is sealed: the key is in the part of the link after #, which browsers never ' +
    'send to a server. The host relays the call\u2019s setup messages but can neither read nor change them. ' +
    'It still sees who connects when, from which address, and how much is sent.',
  unsealed: 'This room is not sealed: the host can read the call\u2019s setup messages (network addresses and ' +
    'connection details) and could change them. A link made by opening the site\u2019s address without a room ' +
    'is sealed.',
};

/**
 * @param {import('./tiles.js').Page} page
 */
export function createSecurityPanel(page) {
  const { doc, $ } = page;
  const badge = $('seal-state');
  const dialog = /** @type {HTMLDialogElement} */ ($('security-dialog'));
  const list = $('safety-codes');
  /** @type {Map<string, string>} */
  const codes = new Map();

  function renderCodes() {
    list.replaceChildren();
    for (const [peerId, code] of codes) {
      const item = doc.createElement('li');
      item.dataset.peer = peerId;
      const who = doc.createElement('span');
      who.textContent = peerLabel(peerId);
      const value = doc.createElement('span');
      value.className = 'code';
      value.textContent = code;
      item.append(who, value);
      list.append(item);
    }
    if (codes.size === 0) {
      const item = doc.createElement('li');
      item.textContent = 'A code appears here for each person once the connection to them is up.';
      list.append(item);
    }
  }

  renderCodes();
  badge.addEventListener('click', () => dialog.showModal());
  $('security-close').addEventListener('click', () => dialog.close());

  return {
    /** @param {'sealed' | 'unsealed'} state */
    sealing(state) {
      badge.dataset.sealed = String(state === 'sealed');
      badge.textContent = state === 'sealed' ? 'Sealed' : 'Not sealed';
      // The accessible name starts with the visible words, as speech input users say them.
      badge.setAttribute('aria-label', `${badge.textContent}: security of this call`);
      $('security-summary').textContent = SUMMARY[state];
    },
    /**
     * @param {string} peerId
     * @param {string} code
     */
    peerSafetyCode(peerId, code) {
      codes.set(peerId, code);
      renderCodes();
    },
    /** @param {string} peerId */
    peerRemoved(peerId) {
      if (codes.delete(peerId)) renderCodes();
    },
  };
}
