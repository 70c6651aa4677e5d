// The keyboard shortcut overlay: a modal dialog listing SHORTCUTS, built once from that list so
// the help can never disagree with what the keys do. It owns the dialog's elements; the page
// decides when to open it.
'use strict';

import { make } from './dom.js';
import { SHORTCUTS } from '../ux/shortcuts.js';

/**
 * @param {Document} doc
 * @returns {{dialog: HTMLDialogElement, toggle: () => void, isOpen: () => boolean}}
 */
export function createHelpDialog(doc) {
  const dialog = /** @type {HTMLDialogElement} */ (make(doc, 'dialog', {
    id: 'shortcuts-dialog', className: 'devices-dialog shortcuts-dialog', attributes: { 'aria-labelledby': 'shortcuts-title' },
  }));
  const title = make(doc, 'h2', { id: 'shortcuts-title', text: 'Keyboard shortcuts' });
  const list = make(doc, 'dl', { className: 'shortcut-list' });
  for (const shortcut of SHORTCUTS) {
    const term = make(doc, 'dt');
    term.append(make(doc, 'kbd', { text: shortcut.keys }));
    list.append(term, make(doc, 'dd', { text: shortcut.description }));
  }
  const note = make(doc, 'p', { className: 'shortcut-note', text: 'Shortcuts do nothing while you type in the chat or a name field.' });
  const actions = make(doc, 'div', { className: 'dialog-actions' });
  const close = make(doc, 'button', { type: 'button', className: 'primary', id: 'shortcuts-close', text: 'Close' });
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
