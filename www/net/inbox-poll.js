// The quiet peer's reads of its inbox: while the data channels carry the call, this peer holds
// no event stream and asks instead, every quietPollSeconds, with a short `GET ?mode=sse&hold=0`
// read by fetch (an EventSource would reconnect by itself every `retry`). What it reads is
// handled like streamed messages (the same id filter, so nothing is handled twice), and the
// request also keeps this peer present. It never joins by itself: it asks through the link.
'use strict';

import { createPoller, parseEventStream } from '../mesh/poll.js';
import { actionForStatus } from './protocol.js';

/**
 * @typedef {object} InboxPoll
 * @property {(intervalMs: number) => void} start
 * @property {() => void} stop
 * @property {() => boolean} running
 */

/**
 * @param {import('./link.js').Link} link
 * @param {object} options
 * @param {ReturnType<typeof import('./protocol.js').createIdFilter>} options.ids
 * @param {(data: string) => void} options.onMessage The data of each new message event.
 * @returns {InboxPoll}
 */
export function createInboxPoll(link, options) {
  const { ids } = options;

  async function pollOnce() {
    if (!link.session() || link.stopped()) return;
    const myGeneration = link.generation();
    const last = ids.last();
    const response = await link.request(
      link.url(link.sessionParams({ mode: 'sse', last: last > 0 ? String(last) : undefined, hold: '0' })),
      { method: 'GET', headers: { Accept: 'text/event-stream' } },
    );
    const action = actionForStatus(response ? response.status : null);
    const text = action === 'ok' && response ? await response.text().catch(() => '') : '';
    if (myGeneration !== link.generation() || link.stopped() || !poller.running()) return;
    // 400: the server no longer accepts this peer's `last`; a fresh join cures it, as a 404 does.
    if (action === 'rejoin' || response?.status === 400) {
      link.rejoin();
      return;
    }
    // Anything else (a host's 508, the network) is simply asked again at the next interval.
    if (action !== 'ok') return;
    link.setState('live');
    for (const event of parseEventStream(text)) {
      if (event.event === 'gone') {
        link.rejoin();
        return;
      }
      if (event.event !== 'message' || !ids.accept(event.id)) continue;
      options.onMessage(event.data);
      // A message can make this peer loud (a join): the stream then takes over.
      if (myGeneration !== link.generation() || !poller.running()) return;
    }
  }

  const poller = createPoller({ poll: pollOnce, intervalMs: 10000, timers: link.timers });

  return {
    start(intervalMs) {
      if (poller.running()) return;
      poller.setInterval(intervalMs);
      poller.start();
      // A first read at once: it tells the server that this peer's held stream, just closed,
      // has no reader any more, so its process ends now rather than at the end of its hold.
      pollOnce();
    },
    stop: () => poller.stop(),
    running: () => poller.running(),
  };
}
