// The browser client's page as a user sees it, through the stable hooks documented at the top
// of www/app.js (body data attributes, #tiles > figure.tile, #chat-*, #status). Only this file
// knows those names (UI, and CHECK_PAGE for the self-check page), so a change of the page
// touches one place; the tests name controls through UI and act through the helpers below.

import assert from 'node:assert/strict';

import { closePeers, connectedCount, openPeer, trafficLog, waitForConnected, waitForPlayingVideos } from './browser.mjs';

export const REMOTE_TILE = '#tiles > figure.tile:not([data-self="true"])';
export const REMOTE_VIDEO = `${REMOTE_TILE} video`;

/** The call page's elements, by what they are for. */
export const UI = Object.freeze({
  remoteTile: REMOTE_TILE,
  remoteVideo: REMOTE_VIDEO,
  video: '#tiles video',
  /** The tile of one peer, by id. */
  tileOf: (id) => `#tiles > figure.tile[data-peer="${id}"]`,
  waiting: '#waiting',
  roomLink: '#room-link',
  status: '#status',
  statusText: '#status-text',
  mic: '#mic',
  camera: '#camera',
  share: '#share',
  devices: '#devices',
  devicesDialog: '#devices-dialog',
  cameraOption: '#camera-select option',
  micOption: '#mic-select option',
  hangup: '#hangup',
  /** The call controls and the chat: hidden on a page that cannot hold a call. */
  callOnly: ['footer.controls', '#chat'],
  ended: '#ended',
  rejoin: '#rejoin',
  chatToggle: '#chat-toggle',
  chatClose: '#chat-close',
  chatInput: '#chat-input',
  chatSend: '#chat-send',
  chatMessage: '#chat-log li.message',
  chatText: '#chat-log li.message .text',
  ownChatText: '#chat-log li.message[data-from="self"] .text',
  /** Elements that markup in a chat message would create if it were not shown as text. */
  chatMarkup: '#chat-log img, #chat-log b',
  chatWho: '#chat-log li.message .who',
  selfTile: '#tiles > figure.tile[data-self="true"]',
  tileName: (id) => `#tiles > figure.tile[data-peer="${id}"] figcaption .name`,
  avatarName: (id) => `#tiles > figure.tile[data-peer="${id}"] .avatar-name`,
  qualityButton: (id) => `#tiles > figure.tile[data-peer="${id}"] .quality-button`,
  qualityDetails: (id) => `#tiles > figure.tile[data-peer="${id}"] .quality-details`,
  qualityValue: (id, label) => `#tiles > figure.tile[data-peer="${id}"] .quality-details dd[data-label="${label}"]`,
  pinButton: (id) => `#tiles > figure.tile[data-peer="${id}"] .tile-tools .pin`,
  nameCard: '#name-card',
  nameInput: '#name-input',
  nameSkip: '#name-skip',
  nameField: '#name-field',
  uplinkSelect: '#uplink-select',
  devicesClose: '#devices-close',
  mutedHint: '#muted-hint',
  shortcutsDialog: '#shortcuts-dialog',
  shortcutsButton: '#shortcuts-button',
  fileTo: '#file-to',
  fileInput: '#file-input',
  fileNote: '#file-note',
  transfer: (direction) => `#transfers li.transfer[data-direction="${direction}"]`,
  transferSave: '#transfers li.transfer[data-direction="in"] .transfer-save',
  transferCancel: (direction) => `#transfers li.transfer[data-direction="${direction}"] .transfer-cancel`,
  /** The top bar's sealed badge (data-sealed="true|false"). */
  sealState: '#seal-state',
  /** Remote tiles that show a safety code (data-safety-code). */
  tileWithSafetyCode: '#tiles > figure.tile[data-safety-code]',
});

/** The self-check page (?mode=check). */
export const CHECK_PAGE = Object.freeze({
  streaming: 'streaming',
  streamingResult: 'streaming-result',
  dataRow: 'tr:nth-child(4)',
  privateFiles: 'private-files',
  privateFilesResult: 'private-files-result',
  /** The cells of the rows, read by their heading (th). */
  rowHeading: 'tr > th',
});

/**
 * Opens the self-check page, waits until its browser-side tests (streaming, private files)
 * are done, and returns every row as {verdict, text} by its heading ('Streaming',
 * 'Private files', 'Gateway', ...).
 */
export async function selfCheck(browser, server) {
  const peer = await openPeer(browser, `${server.url}?mode=check`, { name: 'check' });
  try {
    await waitForBody(peer, (ids) => ids.every((id) => document.getElementById(id)?.className !== 'pending'),
      25_000, 'the self-check verdicts', [CHECK_PAGE.streaming, CHECK_PAGE.privateFiles]);
    return await peer.page.evaluate((heading) => Object.fromEntries([...document.querySelectorAll(heading)]
      .map((th) => [th.textContent, { verdict: th.parentElement.className, text: th.parentElement.querySelector('td').textContent }])),
    CHECK_PAGE.rowHeading);
  } finally {
    await peer.context.close();
  }
}

/** One of the page body's data attributes (state, peer, peers). */
export async function bodyData(peer, name) {
  return peer.page.evaluate((key) => document.body.dataset[key], name);
}

/** Waits until the panel shown to a peer alone in the room is visible. */
export async function waitForWaitingPanel(peer, timeoutMs) {
  await waitForBody(peer, (selector) => !document.querySelector(selector).hidden, timeoutMs, 'waiting panel', UI.waiting);
}

/** Waits until `peer`'s tile of `otherId` has the data attribute `attribute` equal to `value`. */
export async function waitForTile(peer, otherId, attribute, value, timeoutMs = 15_000) {
  await waitForBody(
    peer,
    ([selector, name, expected]) => document.querySelector(selector)?.dataset[name] === expected,
    timeoutMs,
    `tile ${otherId} with ${attribute}=${value}`,
    [UI.tileOf(otherId), attribute, value],
  );
}

/** Waits until `peer` shows no tile of `otherId` any more. */
export async function waitForTileGone(peer, otherId, timeoutMs) {
  await waitForBody(peer, (selector) => !document.querySelector(selector), timeoutMs, 'the tile removed', UI.tileOf(otherId));
}

/** Whether the control `selector` says it is pressed (aria-pressed="true"). */
export async function pressed(peer, selector) {
  return (await peer.page.getAttribute(selector, 'aria-pressed')) === 'true';
}

/** On a narrow screen the chat panel covers the call: closes it, as a phone user would. */
export async function closeChatPanel(peer) {
  if (await peer.page.locator(UI.chatClose).isVisible()) await peer.page.click(UI.chatClose);
}

/** Types `text` into the chat and sends it, opening the chat panel first if it is closed. */
export async function sendChat(peer, text) {
  await peer.page.waitForFunction((selector) => !document.querySelector(selector).disabled, UI.chatSend, { timeout: 20_000 });
  if (!(await peer.page.locator(UI.chatInput).isVisible())) await peer.page.click(UI.chatToggle);
  await peer.page.fill(UI.chatInput, text);
  await peer.page.click(UI.chatSend);
}

/** Waits until a chat message with exactly `text` is shown. */
export async function waitForChat(peer, text, timeoutMs = 15_000) {
  await peer.page.waitForFunction(
    ([selector, expected]) => [...document.querySelectorAll(selector)].some((node) => node.textContent === expected),
    [UI.chatText, text],
    { timeout: timeoutMs },
  );
}

/** The sender's id that the chat shows for the message `text`. */
export async function chatSender(peer, text) {
  return peer.page.$$eval(UI.chatMessage, (items, expected) =>
    items.find((item) => item.querySelector('.text')?.textContent === expected)?.dataset.from, text);
}

/** The room-full/error banner as {kind, visible, text}. */
export async function statusBanner(peer) {
  return peer.page.evaluate(([status, statusText]) => ({
    kind: document.querySelector(status)?.dataset.kind,
    visible: !document.querySelector(status)?.hidden,
    text: document.querySelector(statusText)?.textContent ?? '',
  }), [UI.status, UI.statusText]);
}

/** Opens the room's page in a new browser context and waits until the client has joined. */
export async function joinCall(browser, server, room, options = {}) {
  const url = `${server.url}?room=${encodeURIComponent(room)}`;
  const peer = await openPeer(browser, url, options);
  await waitForBody(peer, () => document.body.dataset.peer !== '' && document.body.dataset.peer !== undefined, 20_000, 'a peer id');
  return peer;
}

/** Waits until `predicate` (run in the page) is true; the error shows the page's state and log. */
export async function waitForBody(peer, predicate, timeoutMs, what, argument = undefined) {
  try {
    await peer.page.waitForFunction(predicate, argument, { timeout: Math.max(1, timeoutMs), polling: 200 });
  } catch (error) {
    const state = await describePage(peer).catch(() => 'unavailable');
    throw new Error(`${peer.name}: no ${what} within ${timeoutMs} ms; page: ${state}\n${peer.logs.slice(-30).join('\n')}`, { cause: error });
  }
}

export async function describePage(peer) {
  return peer.page.evaluate(([selector, statusSelector, statusTextSelector]) => JSON.stringify({
    state: document.body.dataset.state,
    peer: document.body.dataset.peer,
    peers: document.body.dataset.peers,
    tiles: [...document.querySelectorAll(selector)].map((tile) => `${tile.dataset.peer}:${tile.dataset.state}`),
    status: document.querySelector(statusSelector)?.dataset.kind,
    statusText: document.querySelector(statusTextSelector)?.textContent,
    debug: (() => {
      try {
        const info = window.webrtcCgi;
        return { peers: Object.fromEntries(info.peers), transport: info.transport, streams: info.streams };
      } catch (error) {
        return String(error);
      }
    })(),
  }), [REMOTE_TILE, UI.status, UI.statusText]);
}

export async function peerId(peer) {
  return peer.page.evaluate(() => document.body.dataset.peer);
}

/** The remote tiles as {peer, state}. */
export async function remoteTiles(peer) {
  return peer.page.$$eval(REMOTE_TILE, (tiles) => tiles.map((tile) => ({ peer: tile.dataset.peer, state: tile.dataset.state })));
}

/**
 * Waits until the page shows exactly the peers `expectedIds` as connected tiles, its browser
 * holds that many connected RTCPeerConnections, and every remote video plays.
 */
export async function waitForCallWith(peer, expectedIds, timeoutMs = 40_000) {
  const wanted = [...expectedIds].sort();
  try {
    await peer.page.waitForFunction(({ selector, ids }) => {
      const tiles = [...document.querySelectorAll(selector)];
      const shown = tiles.map((tile) => tile.dataset.peer).sort();
      return JSON.stringify(shown) === JSON.stringify(ids)
        && tiles.every((tile) => tile.dataset.state === 'connected');
    }, { selector: REMOTE_TILE, ids: wanted }, { timeout: timeoutMs, polling: 250 });
  } catch (error) {
    const state = await describePage(peer).catch(() => 'unavailable');
    throw new Error(`${peer.name}: expected connected tiles for ${wanted.join(', ')}; page: ${state}\n${peer.logs.slice(-30).join('\n')}\nsignaling of ${peer.name}:\n${await trafficLog(peer)}`, { cause: error });
  }
  await waitForConnected(peer, wanted.length, 10_000);
  await waitForPlayingVideos(peer, REMOTE_VIDEO, wanted.length);
}

export { connectedCount };

/**
 * Waits until every peer shows all the others as connected tiles with playing video. On a
 * failure the error carries every peer's signaling traffic, to tell where a message went.
 */
export async function waitForMesh(peers, timeoutMs = 40_000) {
  const ids = await Promise.all(peers.map((peer) => peerId(peer)));
  const results = await Promise.allSettled(peers.map((peer, index) =>
    waitForCallWith(peer, ids.filter((_, other) => other !== index), timeoutMs)));
  const failures = results.filter((result) => result.status === 'rejected');
  if (failures.length === 0) return ids;
  const traffic = await Promise.all(peers.map(async (peer, index) =>
    `--- ${peer.name} (${ids[index]}):\n${await trafficLog(peer)}`));
  throw new Error(`${failures.map((failure) => failure.reason.message.split('\nsignaling of')[0]).join('\n')}\n${traffic.join('\n')}`);
}

/**
 * Opens peers `a` and `b` in `room`, waits until each shows the other connected with playing
 * video, runs `check` with the two (and their ids), and closes them whatever happens, with any
 * peer `check` pushed onto the same array. Returns the two ids.
 */
export async function withTwoPeers(browser, server, room, check = async () => {}, timeoutMs = 40_000) {
  const peers = [];
  try {
    peers.push(await joinCall(browser, server, room, { name: 'a' }));
    peers.push(await joinCall(browser, server, room, { name: 'b' }));
    const ids = await waitForMesh(peers, timeoutMs);
    await check(peers, ids);
    return ids;
  } finally {
    await closePeers(peers);
  }
}

/** The page's debugging snapshot (window.webrtcCgi), with its Maps as plain objects. */
export function debugInfo(peer) {
  return peer.page.evaluate(() => {
    const info = window.webrtcCgi;
    return { ...info, peers: Object.fromEntries(info.peers) };
  });
}

/** Waits until every peer but the doorkeeper is quiet, and returns the doorkeeper. */
export async function waitForQuiet(peers) {
  for (const peer of peers) {
    await waitForBody(peer, () => {
      const info = window.webrtcCgi;
      return info.quiet || info.doorkeeper;
    }, 20_000, 'a quiet client (or the doorkeeper)');
  }
  const infos = await Promise.all(peers.map(debugInfo));
  const keepers = peers.filter((_, index) => infos[index].doorkeeper);
  assert.equal(keepers.length, 1, `one doorkeeper: ${JSON.stringify(infos.map((i) => [i.peerId, i.doorkeeper, i.quiet]))}`);
  return keepers[0];
}
