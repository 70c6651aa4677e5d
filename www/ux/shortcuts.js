// Keyboard shortcuts of the call page: which key does what, the list the help overlay shows,
// and when a key press is not a shortcut at all (typing in the chat or a name field, a
// browser shortcut with Ctrl, Alt or Meta, a held key repeating). It decides from the event
// alone; acting on the decision and drawing the overlay are the page's.
'use strict';

/**
 * @typedef {'mic' | 'camera' | 'share' | 'chat' | 'leave' | 'help' | 'close'} ShortcutAction
 */

/**
 * Single letters as in other meeting tools; leaving needs Shift as well, because a stray key
 * should not end a call.
 * @type {{key: string, shift: boolean, action: ShortcutAction, keys: string, description: string}[]}
 */
export const SHORTCUTS = [
  { key: 'm', shift: false, action: 'mic', keys: 'M', description: 'Mute or unmute the microphone' },
  { key: 'v', shift: false, action: 'camera', keys: 'V', description: 'Turn the camera off or on' },
  { key: 's', shift: false, action: 'share', keys: 'S', description: 'Share the screen or stop sharing' },
  { key: 'c', shift: false, action: 'chat', keys: 'C', description: 'Open or close the chat' },
  { key: 'l', shift: true, action: 'leave', keys: 'Shift + L', description: 'Leave the call' },
  { key: '?', shift: true, action: 'help', keys: '?', description: 'Show or hide this list' },
];

/**
 * The parts of a KeyboardEvent this looks at.
 * @typedef {object} KeyPress
 * @property {string} key
 * @property {boolean} [shiftKey]
 * @property {boolean} [ctrlKey]
 * @property {boolean} [altKey]
 * @property {boolean} [metaKey]
 * @property {boolean} [repeat]
 * @property {boolean} [isComposing]
 * @property {boolean} [defaultPrevented]
 * @property {unknown} [target]
 */

/** Input types that take no typing, so letter keys on them are free for shortcuts. */
const NON_TEXT_INPUTS = new Set(['button', 'checkbox', 'radio', 'range', 'color', 'file', 'submit', 'reset', 'image']);

/**
 * Whether key presses on `target` are typing: text inputs, text areas, selects (letters pick
 * an option) and anything editable.
 * @param {unknown} target
 * @returns {boolean}
 */
export function isTypingTarget(target) {
  const element = /** @type {{tagName?: string, type?: string, isContentEditable?: boolean} | null} */ (target);
  if (!element || typeof element !== 'object') return false;
  if (element.isContentEditable) return true;
  const tag = String(element.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !NON_TEXT_INPUTS.has(String(element.type ?? 'text').toLowerCase());
  return false;
}

/**
 * The action a key press asks for, or null when it is not a shortcut.
 * @param {KeyPress} event
 * @param {{overlayOpen?: boolean}} [context] overlayOpen: the help overlay is showing, so
 *   Escape closes it.
 * @returns {ShortcutAction | null}
 */
export function shortcutFor(event, context = {}) {
  if (event.defaultPrevented || event.isComposing || event.repeat) return null;
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  if (isTypingTarget(event.target)) return null;
  if (event.key === 'Escape') return context.overlayOpen ? 'close' : null;
  const key = String(event.key ?? '').toLowerCase();
  const match = SHORTCUTS.find((shortcut) => shortcut.key === key && (shortcut.key === '?' || shortcut.shift === Boolean(event.shiftKey)));
  return match ? match.action : null;
}
