// Two small notices over the stage: "you are muted" while the person talks with the
// microphone muted (with an Unmute button), and a banner naming the peers whose connection is
// being repaired. It owns their elements and words; when to show the first is monitor.js's
// call, which peers are reconnecting comes from their connection states.
'use strict';

import { make } from './dom.js';

/** Connection states that mean the media has stopped and the connection is being repaired. */
const REPAIRING = new Set(['disconnected', 'failed']);

/**
 * @param {import('./tiles.js').Page} page
 * @param {(peerId: string) => string} labelOf
 */
export function createNotices(page, labelOf) {
  const { doc, $ } = page;
  const stage = $('stage');
  const hint = make(doc, 'div', { id: 'muted-hint', className: 'muted-hint', hidden: true, attributes: { role: 'status' } });
  const unmute = make(doc, 'button', { type: 'button', id: 'muted-unmute', className: 'primary', text: 'Unmute' });
  hint.append(make(doc, 'span', { text: 'You are muted.' }), unmute);
  const banner = make(doc, 'div', { id: 'peer-banner', className: 'peer-banner', hidden: true, attributes: { role: 'status' } });
  stage.append(banner, hint);
  /** @type {Set<string>} */
  const repairing = new Set();

  function renderBanner() {
    const names = [...repairing].map(labelOf);
    banner.hidden = names.length === 0;
    banner.textContent = names.length === 0 ? '' : `Connection to ${names.join(', ')} lost. Reconnecting…`;
  }

  return {
    /** @param {boolean} shown */
    mutedHint(shown) {
      hint.hidden = !shown;
    },
    /**
     * @param {string} peerId
     * @param {string | null} state null when the peer left.
     */
    peerState(peerId, state) {
      if (state !== null && REPAIRING.has(state)) repairing.add(peerId);
      else repairing.delete(peerId);
      renderBanner();
    },
    /** A name changed: the banner may show it. */
    renamed: renderBanner,
    /** @param {{toggleMic: () => Promise<void>}} call */
    bind(call) {
      unmute.addEventListener('click', () => {
        hint.hidden = true;
        call.toggleMic();
      });
    },
  };
}
