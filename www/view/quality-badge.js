// The connection indicator on a remote tile: three bars coloured by grade, a button that opens
// a small details panel (round trip, loss, bitrate, route) and closes with Escape or a second
// press. It owns those elements and their words; the figures come from ../ux/quality.js.
// Everything is written with textContent.
'use strict';

import { make } from './dom.js';
import { describeLine, GRADE_WORDS } from '../ux/quality.js';

let counter = 0;

/**
 * @param {Document} doc
 * @param {string} label The participant's name, for the button's accessible name.
 */
export function createQualityBadge(doc, label) {
  counter += 1;
  const root = make(doc, 'div', { className: 'quality' });
  root.dataset.grade = 'unknown';
  const button = make(doc, 'button', { type: 'button', className: 'quality-button', attributes: { 'aria-expanded': 'false' } });
  const bars = make(doc, 'span', { className: 'bars', attributes: { 'aria-hidden': 'true' } });
  for (let i = 0; i < 3; i += 1) bars.append(make(doc, 'span'));
  button.append(bars);
  const details = make(doc, 'div', { className: 'quality-details', id: `quality-details-${counter}`, hidden: true, attributes: { role: 'group' } });
  const title = make(doc, 'p', { className: 'quality-title' });
  const list = make(doc, 'dl');
  details.append(title, list);
  button.setAttribute('aria-controls', details.id);
  root.append(button, details);

  let name = label;
  /** @type {import('./quality.js').LineQuality | null} */
  let line = null;

  function render() {
    const grade = line?.grade ?? 'unknown';
    root.dataset.grade = grade;
    const words = GRADE_WORDS[grade];
    button.setAttribute('aria-label', `${words} with ${name}: details`);
    button.title = words;
    title.textContent = `${words} with ${name}`;
    details.setAttribute('aria-label', `Connection with ${name}`);
    if (details.hidden || !line) return;
    list.replaceChildren(...describeLine(line).flatMap((row) => {
      const value = make(doc, 'dd', { text: row.value });
      value.dataset.label = row.label;
      return [make(doc, 'dt', { text: row.label }), value];
    }));
  }

  /** @param {boolean} open */
  function setOpen(open) {
    details.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    render();
  }

  button.addEventListener('click', () => setOpen(details.hidden));
  root.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || details.hidden) return;
    // The page's own Escape handling (the help overlay) should not see this one.
    event.stopPropagation();
    setOpen(false);
    button.focus();
  });
  render();

  return {
    root,
    /** @param {import('./quality.js').LineQuality} next */
    update(next) {
      line = next;
      render();
    },
    /** @param {string} next */
    rename(next) {
      name = next;
      render();
    },
    close: () => setOpen(false),
  };
}
