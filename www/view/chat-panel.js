// The chat panel: the message log (peer text written with textContent), the unread badge on
// the chat button, opening and closing the panel (open by default on wide screens), and the
// form, which is usable only while at least one data channel is open.
'use strict';

import { peerHue, peerLabel } from './names.js';

/** @param {number} at */
function timeOf(at) {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * @param {import('./tiles.js').Page} page
 * @param {() => void} relayout Called after the panel opens or closes (the stage resizes).
 */
export function createChatPanel(page, relayout) {
  const { doc, win, $ } = page;
  const body = doc.body;
  const chatPanel = $('chat');
  const chatLog = $('chat-log');
  const chatEmpty = $('chat-empty');
  const chatInput = /** @type {HTMLInputElement} */ ($('chat-input'));
  const chatSend = /** @type {HTMLButtonElement} */ ($('chat-send'));
  const chatToggle = $('chat-toggle');
  const chatUnread = $('chat-unread');
  let unread = 0;
  let chatOpen = win.matchMedia('(min-width: 900px)').matches;
  let openChannels = 0;

  /** @param {boolean} open */
  function setOpen(open) {
    chatOpen = open;
    chatPanel.dataset.open = String(open);
    body.dataset.chat = open ? 'open' : 'closed';
    chatToggle.setAttribute('aria-pressed', String(open));
    if (open) {
      unread = 0;
      chatUnread.hidden = true;
    }
    win.requestAnimationFrame(relayout);
  }

  function updateAvailability() {
    const usable = openChannels > 0;
    chatSend.disabled = !usable;
    chatInput.placeholder = usable ? 'Message everyone' : 'Waiting for others…';
  }

  setOpen(chatOpen);
  updateAvailability();

  return {
    /** @param {{from: string | null, text: string, at: number}} message */
    add(message) {
      const item = doc.createElement('li');
      item.className = 'message';
      item.dataset.from = message.from ?? 'self';
      const meta = doc.createElement('div');
      meta.className = 'meta';
      const who = doc.createElement('span');
      who.className = 'who';
      who.textContent = message.from ? peerLabel(message.from) : 'You';
      if (message.from) who.style.setProperty('--hue', String(peerHue(message.from)));
      const when = doc.createElement('time');
      when.dateTime = new Date(message.at).toISOString();
      when.textContent = timeOf(message.at);
      meta.append(who, when);
      const text = doc.createElement('p');
      text.className = 'text';
      text.textContent = message.text;
      item.append(meta, text);
      chatLog.append(item);
      chatEmpty.hidden = true;
      chatLog.scrollTop = chatLog.scrollHeight;
      if (!chatOpen && message.from) {
        unread += 1;
        chatUnread.textContent = unread > 9 ? '9+' : String(unread);
        chatUnread.hidden = false;
      }
    },
    /** @param {number} open The number of open data channels. */
    channels(open) {
      openChannels = open;
      updateAvailability();
    },
    /** Empties the log (a rejoin starts a new conversation). */
    clear() {
      chatLog.replaceChildren();
      chatEmpty.hidden = false;
    },
    /** @param {{sendChat: (text: string) => boolean}} call */
    bind(call) {
      $('chat-toggle').addEventListener('click', () => {
        setOpen(!chatOpen);
        if (chatOpen) chatInput.focus();
      });
      $('chat-close').addEventListener('click', () => {
        setOpen(false);
        chatToggle.focus();
      });
      $('chat-form').addEventListener('submit', (event) => {
        event.preventDefault();
        if (call.sendChat(chatInput.value)) chatInput.value = '';
      });
    },
  };
}
