// The keyboard shortcuts of the call page: one keydown listener that asks ../ux/shortcuts.js
// what a key means and does it through the same controls a click uses, and the overlay that
// lists them (opened with ? or the Shortcuts button). Nothing fires while a dialog other than
// the overlay is open or the person is typing.
'use strict';

import { createHelpDialog } from './help-dialog.js';
import { shortcutFor } from '../ux/shortcuts.js';

/**
 * @param {import('./tiles.js').Page} page
 * @param {{toggleMic: () => Promise<void>, toggleCamera: () => Promise<void>, toggleShare: () => Promise<void>}} call
 */
export function bindShortcuts(page, call) {
  const { doc, $ } = page;
  const help = createHelpDialog(doc);
  $('shortcuts-button').addEventListener('click', () => help.toggle());
  doc.addEventListener('keydown', (event) => {
    const overlayOpen = help.isOpen();
    const action = shortcutFor(event, { overlayOpen });
    if (!action) return;
    if (overlayOpen && action !== 'help' && action !== 'close') return;
    if (!overlayOpen && doc.querySelector('dialog[open]')) return;
    const inCall = !['left', 'full', 'error'].includes(doc.body.dataset.state ?? '');
    if (!inCall && action !== 'help') return;
    event.preventDefault();
    if (action === 'mic') call.toggleMic();
    else if (action === 'camera') call.toggleCamera();
    else if (action === 'share' && !$('share').hidden) call.toggleShare();
    else if (action === 'chat') $('chat-toggle').click();
    else if (action === 'leave') $('hangup').click();
    else if (action === 'help' || action === 'close') help.toggle();
  });
  return help;
}
