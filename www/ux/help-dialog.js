// The keyboard shortcut overlay: a modal dialog listing SHORTCUTS, built once from that list so
// the help can never disagree with what the keys do. It owns the dialog's elements; the page
// decides when to open it.
'use strict';

import { SHORTCUTS } from './shortcuts.js';

/**
 * @param {Document} doc
 * @returns {{dialog: HTMLDialogElement, toggle: () => void, isOpen: () => boolean}}
 */
export function createHelpDialog(doc) {
  const dialog = /** @type {HTMLDialogElement} */ (doc.createElement('dialog'));
  dialog.id = 'shortcuts-dialog';
  dialog.className = 'devices-dialog shortcuts-dialog';
  dialog.setAttribute('aria-labelledby', 'shortcuts-title');
  const title = doc.createElement('h2');
  title.id = 'shortcuts-title';
  title.textContent = 'Keyboard shortcuts';
  const list = doc.createElement('dl');
  list.className = 'shortcut-list';
  for (const shortcut of SHORTCUTS) {
    const term = doc.createElement('dt');
    const keys = doc.createElement('kbd');
    keys.textContent = shortcut.keys;
    term.append(keys);
    const what = doc.createElement('dd');
    what.textContent = shortcut.description;
    list.append(term, what);
  }
  const note = doc.createElement('p');
  note.className = 'shortcut-note';
  note.textContent = 'Shortcuts do nothing while you type in the chat or a name field.';
  const actions = doc.createElement('div');
  actions.className = 'dialog-actions';
  const close = doc.createElement('button');
  close.type = 'button';
  close.className = 'primary';
  close.id = 'shortcuts-close';
  close.textContent = 'Close';
  close.addEventListener('click', () => dialog.close());
  actions.append(close);
  dialog.append(title, list, note, actions);
  doc.body.append(dialog);
  return {
    dialog,
    toggle() {
      if (dialog.open) dialog.close();
      else dialog.showModal();
    },
    isOpen: () => dialog.open,
  };
}
