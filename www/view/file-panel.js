// The file part of the chat panel: whom to send to (everyone or one person), the button that
// picks a file, the size-limit message, and one row per transfer with its progress, a cancel
// button and, for a received file, a link that saves it (a download, never shown inline). It
// owns those elements and the object URLs of received files; sending is the caller's.
'use strict';

import { make } from './dom.js';
import { formatBytes, sizeProblem } from '../ux/file-format.js';

/** @type {Record<string, string>} */
const STATE_WORDS = {
  offered: 'Waiting…',
  sending: 'Sending',
  receiving: 'Receiving',
  done: 'Done',
  cancelled: 'Cancelled',
  refused: 'Not sent',
  lost: 'Connection lost',
  failed: 'Failed',
};

/**
 * @param {Document} doc
 * @param {{onSend: (file: File, to: string) => void, maxBytes?: number}} options `to` is a
 *   peer id, or '' for everyone.
 */
export function createFilePanel(doc, options) {
  const root = make(doc, 'section', { className: 'files', attributes: { 'aria-label': 'Files' } });
  const row = make(doc, 'div', { className: 'file-row' });
  const toLabel = make(doc, 'label', { text: 'File to', attributes: { for: 'file-to' } });
  const to = /** @type {HTMLSelectElement} */ (make(doc, 'select', { id: 'file-to' }));
  const pick = /** @type {HTMLButtonElement} */ (make(doc, 'button', { type: 'button', id: 'file-pick', className: 'ghost', text: 'Send a file' }));
  // Reached through the button, which has a visible name; the input itself stays out of the
  // tab order.
  const input = /** @type {HTMLInputElement} */ (make(doc, 'input', {
    type: 'file', id: 'file-input', hidden: true, attributes: { tabindex: '-1', 'aria-label': 'File to send' },
  }));
  row.append(toLabel, to, pick, input);
  const note = make(doc, 'p', { id: 'file-note', className: 'note', attributes: { role: 'status' } });
  const list = make(doc, 'ol', { id: 'transfers', className: 'transfers', attributes: { 'aria-label': 'File transfers' } });
  root.append(row, note, list);

  /** @type {Map<string, {item: HTMLLIElement, url: string}>} */
  const rows = new Map();
  /** @type {{id: string, label: string}[]} */
  let peers = [];

  function renderPeers() {
    const chosen = to.value;
    const choices = [{ id: '', label: 'Everyone' }, ...peers].map((peer) => {
      const option = /** @type {HTMLOptionElement} */ (make(doc, 'option', { text: peer.label }));
      option.value = peer.id;
      return option;
    });
    to.replaceChildren(...choices);
    to.value = peers.some((peer) => peer.id === chosen) ? chosen : '';
    pick.disabled = peers.length === 0;
    to.disabled = peers.length === 0;
  }

  pick.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    const problem = sizeProblem(file.size, options.maxBytes);
    note.textContent = problem ?? '';
    if (!problem) options.onSend(file, to.value);
  });
  renderPeers();

  return {
    root,
    /** @param {{id: string, label: string}[]} next Everyone a file can go to now. */
    setPeers(next) {
      peers = next;
      renderPeers();
    },
    /**
     * Shows a transfer as it is now.
     * @param {string} peerId The other side.
     * @param {string} label Their name.
     * @param {import('./files.js').Transfer} transfer
     */
    update(peerId, label, transfer) {
      const key = `${transfer.direction}:${peerId}:${transfer.id}`;
      let entry = rows.get(key);
      if (!entry) {
        const item = /** @type {HTMLLIElement} */ (make(doc, 'li', { className: 'transfer' }));
        item.dataset.direction = transfer.direction;
        item.dataset.peer = peerId;
        const name = make(doc, 'span', { className: 'transfer-name' });
        const meta = make(doc, 'span', { className: 'transfer-meta' });
        const progress = make(doc, 'progress', { attributes: { 'aria-label': `Progress of ${transfer.name}` } });
        const cancel = make(doc, 'button', {
          type: 'button', className: 'ghost transfer-cancel', text: 'Cancel', attributes: { 'aria-label': `Cancel ${transfer.name}` },
        });
        cancel.addEventListener('click', () => transfer.cancel());
        item.append(name, meta, progress, cancel);
        list.append(item);
        entry = { item, url: '' };
        rows.set(key, entry);
      }
      const { item } = entry;
      item.dataset.state = transfer.state;
      /** @type {HTMLElement} */ (item.querySelector('.transfer-name')).textContent = transfer.name;
      const direction = transfer.direction === 'out' ? 'to' : 'from';
      const words = STATE_WORDS[transfer.state] ?? transfer.state;
      /** @type {HTMLElement} */ (item.querySelector('.transfer-meta')).textContent =
        `${direction} ${label} · ${formatBytes(transfer.bytes)} of ${formatBytes(transfer.size)} · ${transfer.reason || words}`;
      const progress = /** @type {HTMLProgressElement} */ (item.querySelector('progress'));
      progress.max = transfer.size;
      progress.value = transfer.bytes;
      const going = ['offered', 'sending', 'receiving'].includes(transfer.state);
      /** @type {HTMLElement} */ (item.querySelector('.transfer-cancel')).hidden = !going;
      if (transfer.state === 'done' && transfer.blob && !entry.url) {
        entry.url = URL.createObjectURL(transfer.blob);
        const save = /** @type {HTMLAnchorElement} */ (make(doc, 'a', {
          className: 'primary transfer-save', text: 'Save', attributes: { 'aria-label': `Save ${transfer.name}` },
        }));
        save.href = entry.url;
        save.download = transfer.name;
        item.append(save);
      }
    },
    /** @param {string} text */
    note(text) {
      note.textContent = text;
    },
    /** Forgets every row and lets go of the received files. */
    clear() {
      for (const entry of rows.values()) if (entry.url) URL.revokeObjectURL(entry.url);
      rows.clear();
      list.replaceChildren();
      note.textContent = '';
    },
  };
}
