// Display names: what a person typed (or a peer sent) made safe to show and short enough for a
// tile. It owns the cleaning rules, the fallback label and the remembered name in
// localStorage. Names are only ever rendered as text; this module does not make them safe for
// HTML, it makes them readable (no control or direction-changing characters, no endless
// combining marks, one line, a bounded length). It never sends a name anywhere.
'use strict';

/** Longer names are cut, counted in user-perceived characters (grapheme clusters). */
export const NAME_MAX_GRAPHEMES = 32;

/** Where the page remembers the name between visits. */
export const NAME_STORAGE_KEY = 'webrtc-cgi.name';

// Control characters (C0, DEL, C1), bidirectional embeddings, overrides, isolates and marks
// (they let a name reverse the text around it), zero-width spaces and the byte order mark. The
// zero-width joiner (U+200D) stays: emoji sequences need it.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]/gu;
// Whitespace of every kind, line and paragraph separators included, becomes one space.
const SPACES = /[\s\u2028\u2029]+/gu;
// More than this many combining marks on one letter only stacks ink over neighbouring text.
const MAX_MARKS = 2;
const MARK = /\p{M}/u;

/**
 * Splits text into user-perceived characters. Intl.Segmenter is in every current browser; the
 * code point split is for the rare one without it, and only affects where a long name is cut.
 * @param {string} text
 * @returns {string[]}
 */
export function graphemes(text) {
  // Printable ASCII is one grapheme per character. Most names are, and the page then never
  // builds a segmenter, whose first construction (ICU's break rules) costs tens of
  // milliseconds of the page's start.
  if (PLAIN.test(text)) return Array.from(text);
  const segmenter = graphemeSegmenter();
  return segmenter ? Array.from(segmenter.segment(text), (part) => part.segment) : Array.from(text);
}

const PLAIN = /^[\x20-\x7e]*$/;
/** @type {Intl.Segmenter | null | undefined} */
let segmenterMade;

/** The page's one grapheme segmenter, made when first needed; null without Intl.Segmenter. */
function graphemeSegmenter() {
  if (segmenterMade === undefined) {
    segmenterMade = typeof Intl === 'object' && typeof Intl.Segmenter === 'function'
      ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
      : null;
  }
  return segmenterMade;
}

/**
 * Keeps at most MAX_MARKS combining marks in each grapheme.
 * @param {string} grapheme
 * @returns {string}
 */
function limitMarks(grapheme) {
  let marks = 0;
  let kept = '';
  for (const char of grapheme) {
    if (MARK.test(char)) {
      marks += 1;
      if (marks > MAX_MARKS) continue;
    }
    kept += char;
  }
  return kept;
}

/**
 * Cleans a name typed by the user or received from a peer. Returns '' when nothing readable
 * is left, so that the caller shows its fallback.
 * @param {unknown} raw
 * @param {{maxGraphemes?: number}} [options]
 * @returns {string}
 */
export function cleanName(raw, options = {}) {
  if (typeof raw !== 'string') return '';
  const max = options.maxGraphemes ?? NAME_MAX_GRAPHEMES;
  // A hostile peer may send megabytes; nothing past this can survive the cut anyway.
  const bounded = raw.slice(0, max * 16);
  const flat = bounded.normalize('NFC').replace(SPACES, ' ').replace(INVISIBLE, '').replace(SPACES, ' ').trim();
  // A mark with no letter before it (left at the start once spaces are trimmed) is dropped.
  const parts = graphemes(flat).map(limitMarks).filter((part) => part !== '' && !MARK.test(Array.from(part)[0] ?? ''));
  const cut = parts.length > max ? parts.slice(0, max - 1).join('').trimEnd() + '\u2026' : parts.join('');
  return cut.trim();
}

/**
 * The label a participant is shown with: their name, or a neutral one made from the peer id.
 * @param {string} name An already cleaned name, possibly ''.
 * @param {string} peerId
 * @returns {string}
 */
export function displayName(name, peerId) {
  return name || `Guest ${String(peerId).slice(0, 4)}`;
}

/**
 * One or two letters for the avatar shown while the camera is off: the first letter of the
 * first two words of the name.
 * @param {string} label
 * @returns {string}
 */
export function initialsOf(label) {
  const words = label.split(' ').filter(Boolean);
  const letters = words.slice(0, 2).map((word) => graphemes(word)[0] ?? '');
  return letters.join('').toLocaleUpperCase() || '?';
}

/**
 * The remembered name, or '' when there is none or storage is refused (private windows and
 * some privacy settings make localStorage throw).
 * @param {Pick<Storage, 'getItem'> | null | undefined} storage
 * @returns {string}
 */
export function loadName(storage) {
  try {
    return cleanName(storage?.getItem(NAME_STORAGE_KEY) ?? '');
  } catch {
    return '';
  }
}

/**
 * Remembers a name for the next visit; an empty name forgets it.
 * @param {Pick<Storage, 'setItem' | 'removeItem'> | null | undefined} storage
 * @param {string} name
 * @returns {boolean} whether it was stored.
 */
export function saveName(storage, name) {
  try {
    const clean = cleanName(name);
    if (clean) storage?.setItem(NAME_STORAGE_KEY, clean);
    else storage?.removeItem(NAME_STORAGE_KEY);
    return Boolean(storage);
  } catch {
    return false;
  }
}
