// The small card that asks for a name when the call opens: one field, prefilled with the name
// remembered from the last visit, a Save button and a Skip button. Nothing blocks the call
// while it is up. It owns the card's elements; cleaning, remembering and sending the name are
// the caller's (names.js, and the call for the peers).
'use strict';

import { NAME_MAX_GRAPHEMES } from './names.js';

/**
 * @param {Document} doc
 * @param {{initial: string, onName: (name: string) => void}} options
 */
export function createNameCard(doc, options) {
  const form = doc.createElement('form');
  form.id = 'name-card';
  form.className = 'name-card';
  form.autocomplete = 'on';
  form.setAttribute('aria-label', 'Your name');
  const label = doc.createElement('label');
  label.htmlFor = 'name-input';
  label.textContent = 'Your name';
  const input = doc.createElement('input');
  input.id = 'name-input';
  input.type = 'text';
  input.autocomplete = 'name';
  input.enterKeyHint = 'done';
  input.spellcheck = false;
  // Room for combining marks and emoji sequences; names.js cuts by grapheme.
  input.maxLength = NAME_MAX_GRAPHEMES * 8;
  input.placeholder = 'Shown to the others';
  input.value = options.initial;
  const save = doc.createElement('button');
  save.type = 'submit';
  save.id = 'name-save';
  save.className = 'primary';
  save.textContent = 'Save';
  const skip = doc.createElement('button');
  skip.type = 'button';
  skip.id = 'name-skip';
  skip.className = 'ghost';
  skip.textContent = 'Skip';
  const row = doc.createElement('div');
  row.className = 'name-row';
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
