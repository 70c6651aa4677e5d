// The single status banner under the top bar and the connection word beside the room name.
// Connection problems outrank media notices in the banner, because they change what the user
// can do right now; a media notice comes back once they are resolved and can be dismissed.
'use strict';

/** What the banner says for a connection state that needs one. */
const CONNECTION_NOTICES = /** @type {Record<string, {text: string, action?: string}>} */ ({
  reconnecting: { text: 'Connection to the server lost. Reconnecting…' },
  full: { text: 'This room is full. Try again when someone leaves.', action: 'Try again' },
  error: { text: 'The server refused this call.' },
  incomplete: {
    text: 'This link is incomplete. The room is sealed, and its key is the part of the link after #. ' +
      'Ask for the whole link.',
  },
});

/** The warning when the host made or changed a message of a sealed room. */
const TAMPERED_TEXT = 'The server (the host) altered or forged a message of this call. It was ignored. ' +
  'If the call does not work, compare the safety codes (Security) before trusting it.';

/** The top bar's word for each call state. */
const CONNECTION_WORDS = /** @type {Record<string, string>} */ ({
  joining: 'Joining…',
  live: 'Connected',
  reconnecting: 'Reconnecting…',
  full: 'Room full',
  left: 'Not in call',
  error: 'Error',
  incomplete: 'Link incomplete',
});

/**
 * @param {import('./tiles.js').Page} page
 */
export function createStatusBanner(page) {
  const { $ } = page;
  const status = $('status');
  const statusText = $('status-text');
  const statusAction = /** @type {HTMLButtonElement} */ ($('status-action'));
  const connection = $('connection');
  let callState = 'joining';
  let connectionDetail = '';
  /** @type {{kind: string | null, text: string | null, dismissed: boolean}} */
  let mediaNotice = { kind: null, text: null, dismissed: false };
  // Outranks media notices: it says something about the host, not about this computer.
  let tampered = { shown: false, dismissed: false };

  function render() {
    const notice = CONNECTION_NOTICES[callState];
    let kind = '';
    let text = '';
    let action = '';
    if (notice) {
      kind = callState;
      text = callState === 'error' && connectionDetail ? connectionDetail : notice.text;
      action = notice.action ?? '';
    } else if (callState !== 'left' && tampered.shown && !tampered.dismissed) {
      kind = 'tampered';
      text = TAMPERED_TEXT;
    } else if (callState !== 'left' && mediaNotice.kind && mediaNotice.text && !mediaNotice.dismissed) {
      kind = mediaNotice.kind;
      text = mediaNotice.text;
    }
    status.dataset.kind = kind;
    status.hidden = kind === '';
    statusText.textContent = text;
    statusAction.hidden = action === '';
    statusAction.textContent = action;
    $('status-dismiss').hidden = Boolean(notice);
    connection.dataset.kind = callState;
    connection.textContent = CONNECTION_WORDS[callState] ?? callState;
  }

  return {
    /**
     * @param {string} state
     * @param {string} [detail]
     */
    callState(state, detail) {
      callState = state;
      connectionDetail = detail ?? '';
      render();
    },
    /**
     * @param {string | null} kind
     * @param {string | null} text
     */
    mediaNotice(kind, text) {
      mediaNotice = { kind, text, dismissed: false };
      render();
    },
    /** A message of a sealed room was dropped: the host made or changed it. */
    tampered() {
      if (tampered.shown && !tampered.dismissed) return;
      tampered = { shown: true, dismissed: false };
      render();
    },
    /** @param {{retryJoin: () => void}} call */
    bind(call) {
      statusAction.addEventListener('click', () => call.retryJoin());
      $('status-dismiss').addEventListener('click', () => {
        if (status.dataset.kind === 'tampered') tampered.dismissed = true;
        else mediaNotice.dismissed = true;
        render();
      });
    },
  };
}
