// The small card that asks for a name when the call opens: one field, prefilled with the name
// remembered from the last visit, a Save button and a Skip button. Nothing blocks the call
// while it is up. It owns the card's elements; cleaning, remembering and sending the name are
// the caller's (../ux/display-name.js, and the call for the peers).
'use strict';

import { make } from './dom.js';
import { NAME_MAX_GRAPHEMES } from '../ux/display-name.js';

/**
 * @param {Document} doc
 * @param {{initial: string, onName: (name: string) => void}} options
 */
export function createNameCard(doc, options) {
  const form = make(doc, 'form', { id: 'name-card', className: 'name-card', attributes: { 'aria-label': 'Your name' } });
  const label = make(doc, 'label', { text: 'Your name', attributes: { for: 'name-input' } });
  const input = /** @type {HTMLInputElement} */ (make(doc, 'input', {
    id: 'name-input', type: 'text',
    attributes: { autocomplete: 'name', enterkeyhint: 'done', spellcheck: 'false', placeholder: 'Shown to the others' },
  }));
  // Room for combining marks and emoji sequences; display-name.js cuts by grapheme.
  input.maxLength = NAME_MAX_GRAPHEMES * 8;
  input.value = options.initial;
  const save = make(doc, 'button', { type: 'submit', id: 'name-save', className: 'primary', text: 'Save' });
  const skip = make(doc, 'button', { type: 'button', id: 'name-skip', className: 'ghost', text: 'Skip' });
  const row = make(doc, 'div', { className: 'name-row' });
  row.append(input, save, skip);
  form.append(label, row);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    options.onName(input.value);
    form.hidden = true;
  });
  skip.addEventListener('click', () => {
    form.hidden = true;
  });

  return {
    root: form,
    /** @param {string} name */
    show(name) {
      input.value = name;
      form.hidden = false;
    },
    hide() {
      form.hidden = true;
    },
  };
}
