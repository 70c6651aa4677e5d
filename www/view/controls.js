// The call controls and the room link: the microphone, camera and share buttons (pressed
// state and labels follow the local media), leave and rejoin, and the two Copy link buttons
// (the clipboard, or selecting the link's text where the clipboard API is missing).
'use strict';

import { canShareScreen } from '../rtc/media.js';

/**
 * @typedef {object} ControlledCall
 * @property {() => Promise<void>} toggleMic
 * @property {() => Promise<void>} toggleCamera
 * @property {() => Promise<void>} toggleShare
 * @property {() => void} hangUp
 * @property {() => Promise<void>} start
 */

/**
 * @param {import('./tiles.js').Page} page
 * @param {string} roomLink
 */
export function createControls(page, roomLink) {
  const { doc, win, $ } = page;
  if (!canShareScreen(win.navigator.mediaDevices)) $('share').hidden = true;

  /**
   * @param {HTMLButtonElement} button
   * @param {string} done
   */
  async function copyLink(button, done) {
    const original = button.querySelector('.text') ?? button;
    const before = original.textContent;
    let ok = false;
    try {
      await win.navigator.clipboard.writeText(roomLink);
      ok = true;
    } catch {
      // The clipboard API needs a secure context; selecting the text is the fallback.
      const input = /** @type {HTMLInputElement} */ ($('room-link'));
      input.select();
      ok = doc.execCommand?.('copy') ?? false;
    }
    original.textContent = ok ? done : 'Select and copy';
    button.dataset.copied = String(ok);
    win.setTimeout(() => {
      original.textContent = before;
      delete button.dataset.copied;
    }, 2000);
  }

  /**
   * @param {string} id
   * @param {boolean} pressed
   * @param {string} ariaLabel
   * @param {string} label
   */
  function setButton(id, pressed, ariaLabel, label) {
    const button = $(id);
    button.setAttribute('aria-pressed', String(pressed));
    button.setAttribute('aria-label', ariaLabel);
    /** @type {HTMLElement} */ (button.querySelector('.label')).textContent = label;
    return button;
  }

  return {
    /** @param {import('../rtc/local-media.js').MediaFlags & {hasAudio: boolean}} flags */
    localMedia(flags) {
      const micLabel = flags.hasAudio ? (flags.mic ? 'Mute microphone' : 'Unmute microphone') : 'Turn microphone on';
      const mic = setButton('mic', !flags.mic, micLabel, flags.mic ? 'Mute' : 'Unmute');
      mic.dataset.available = String(flags.hasAudio);
      setButton('camera', !flags.camera, flags.camera ? 'Turn camera off' : 'Turn camera on', flags.camera ? 'Stop video' : 'Start video');
      setButton('share', flags.sharing, flags.sharing ? 'Stop sharing screen' : 'Share screen', flags.sharing ? 'Stop share' : 'Share');
    },
    /**
     * @param {ControlledCall} call
     * @param {() => void} beforeRejoin
     */
    bind(call, beforeRejoin) {
      const on = (/** @type {string} */ id, /** @type {() => void} */ fn) => $(id).addEventListener('click', fn);
      on('mic', () => call.toggleMic());
      on('camera', () => call.toggleCamera());
      on('share', () => call.toggleShare());
      on('hangup', () => call.hangUp());
      on('rejoin', () => {
        beforeRejoin();
        call.start();
      });
      on('copy-link', () => copyLink(/** @type {HTMLButtonElement} */ ($('copy-link')), 'Copied'));
      on('copy-link-top', () => copyLink(/** @type {HTMLButtonElement} */ ($('copy-link-top')), 'Copied'));
    },
  };
}
