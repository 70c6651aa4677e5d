// One helper for the view pieces of www/ux: an element with its id, class, text and
// attributes set in one call. Text goes in with textContent, never as markup.
'use strict';

/**
 * @param {Document} doc
 * @param {string} tag
 * @param {{id?: string, className?: string, text?: string, type?: string, hidden?: boolean,
 *   attributes?: Record<string, string>}} [props]
 * @returns {HTMLElement}
 */
export function make(doc, tag, props = {}) {
  const element = doc.createElement(tag);
  if (props.id) element.id = props.id;
  if (props.className) element.className = props.className;
  if (props.text !== undefined) element.textContent = props.text;
  if (props.type) element.setAttribute('type', props.type);
  if (props.hidden) element.hidden = true;
  for (const [name, value] of Object.entries(props.attributes ?? {})) element.setAttribute(name, value);
  return element;
}
