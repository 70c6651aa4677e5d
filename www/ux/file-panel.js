// The file part of the chat panel: whom to send to (everyone or one person), the button that
// picks a file, the size-limit message, and one row per transfer with its progress, a cancel
// button and, for a received file, a link that saves it (a download, never shown inline). It
// owns those elements and the object URLs of received files; sending is the caller's.
'use strict';

import { formatBytes, sizeProblem } from './files.js';

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
  const root = doc.createElement('section');
  root.className = 'files';
  root.setAttribute('aria-label', 'Files');

  const row = doc.createElement('div');
  row.className = 'file-row';
  const toLabel = doc.createElement('label');
  toLabel.htmlFor = 'file-to';
  toLabel.textContent = 'File to';
  const to = doc.createElement('select');
  to.id = 'file-to';
  const pick = doc.createElement('button');
  pick.type = 'button';
  pick.id = 'file-pick';
  pick.className = 'ghost';
  pick.textContent = 'Send a file';
  const input = doc.createElement('input');
  input.type = 'file';
  input.id = 'file-input';
  input.hidden = true;
  input.tabIndex = -1;
  input.setAttribute('aria-label', 'File to send');
  row.append(toLabel, to, pick, input);

  const note = doc.createElement('p');
  note.id = 'file-note';
  note.className = 'note';
  note.setAttribute('role', 'status');
  const list = doc.createElement('ol');
  list.id = 'transfers';
  list.className = 'transfers';
  list.setAttribute('aria-label', 'File transfers');
  root.append(row, note, list);

  /** @type {Map<string, {item: HTMLLIElement, url: string}>} */
  const rows = new Map();
  /** @type {{id: string, label: string}[]} */
  let peers = [];

  function renderPeers() {
    const chosen = to.value;
    const everyone = doc.createElement('option');
    everyone.value = '';
    everyone.textContent = 'Everyone';
    to.replaceChildren(everyone, ...peers.map((peer) => {
      const option = doc.createElement('option');
      option.value = peer.id;
      option.textContent = peer.label;
      return option;
    }));
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
        const item = /** @type {HTMLLIElement} */ (doc.createElement('li'));
        item.className = 'transfer';
        item.dataset.direction = transfer.direction;
        item.dataset.peer = peerId;
        const name = doc.createElement('span');
        name.className = 'transfer-name';
        const meta = doc.createElement('span');
        meta.className = 'transfer-meta';
        const progress = doc.createElement('progress');
        progress.setAttribute('aria-label', `Progress of ${transfer.name}`);
        const cancel = doc.createElement('button');
        cancel.type = 'button';
        cancel.className = 'ghost transfer-cancel';
        cancel.textContent = 'Cancel';
        cancel.setAttribute('aria-label', `Cancel ${transfer.name}`);
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
        const save = doc.createElement('a');
        save.className = 'primary transfer-save';
        save.href = entry.url;
        save.download = transfer.name;
        save.textContent = 'Save';
        save.setAttribute('aria-label', `Save ${transfer.name}`);
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
