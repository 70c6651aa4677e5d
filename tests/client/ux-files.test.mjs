import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cleanFileName, formatBytes, HIGH_WATER_BYTES, CHUNK_BYTES, sizeProblem } from '../../www/ux/file-format.js';
import { createFileLink } from '../../www/ux/files.js';

/**
 * Two ends of a data channel over a slow network: each send waits in `bufferedAmount` until
 * the network has carried it (`bytesPerTick` per macrotask, each tick 10 ms of the pair's
 * clock), then reaches the other end.
 */
function channelPair({ bytesPerTick = 256 * 1024 } = {}) {
  let clock = 0;
  const ends = [0, 1].map(() => ({
    readyState: 'open',
    bufferedAmount: 0,
    bufferedAmountLowThreshold: 0,
    maxBuffered: 0,
    queue: [],
    listeners: new Map(),
    onmessage: null,
    addEventListener(type, fn) { if (!this.listeners.has(type)) this.listeners.set(type, new Set()); this.listeners.get(type).add(fn); },
    removeEventListener(type, fn) { this.listeners.get(type)?.delete(fn); },
    fire(type) { for (const fn of [...(this.listeners.get(type) ?? [])]) fn(); },
    send(data) {
      if (this.readyState !== 'open') throw new Error('InvalidStateError');
      const copy = typeof data === 'string' ? data : new Uint8Array(data.buffer ? data.slice() : data).buffer;
      const size = typeof data === 'string' ? data.length : copy.byteLength;
      this.bufferedAmount += size;
      this.maxBuffered = Math.max(this.maxBuffered, this.bufferedAmount);
      this.queue.push({ copy, size });
    },
  }));
  const [a, b] = ends;
  let running = true;
  function tick() {
    if (!running) return;
    clock += 10;
    for (const [from, to] of [[a, b], [b, a]]) {
      let budget = bytesPerTick;
      while (from.queue.length && budget > 0 && from.readyState === 'open') {
        const { copy, size } = from.queue.shift();
        budget -= size;
        const before = from.bufferedAmount;
        from.bufferedAmount -= size;
        to.onmessage?.(copy);
        if (before > from.bufferedAmountLowThreshold && from.bufferedAmount <= from.bufferedAmountLowThreshold) from.fire('bufferedamountlow');
      }
    }
    setImmediate(tick);
  }
  setImmediate(tick);
  return {
    a, b,
    now: () => clock,
    close() {
      for (const end of ends) {
        end.readyState = 'closed';
        end.queue = [];
        end.bufferedAmount = 0;
      }
      for (const end of ends) end.fire('close');
      running = false;
    },
    stop() { running = false; },
  };
}

/** A link on each end, with every update recorded. */
function linkedPair(options = {}) {
  const pair = channelPair(options);
  const updates = { a: [], b: [] };
  const links = {};
  for (const side of ['a', 'b']) {
    const channel = pair[side];
    links[side] = createFileLink(channel, {
      onUpdate: (transfer) => {
        updates[side].push(transfer);
        options.onUpdate?.(side, transfer);
      },
      maxBytes: options.maxBytes,
      now: pair.now,
    });
    channel.onmessage = (data) => links[side].receive(data);
    channel.addEventListener('close', () => links[side].lost());
  }
  return { pair, links, updates };
}

const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');
const until = async (predicate, what) => {
  for (let i = 0; i < 2000; i += 1) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
};
const last = (list, direction) => list.filter((t) => t.direction === direction).at(-1);

test('files: a 3 MB file arrives intact, with progress on both sides and back-pressure held', async () => {
  const { pair, links, updates } = linkedPair({ bytesPerTick: 64 * 1024 });
  const bytes = randomBytes(3 * 1024 * 1024 + 12345);
  const file = new File([bytes], 'holiday photos.zip', { type: 'application/zip' });
  const { finished } = links.a.send(file);
  assert.equal(await finished, 'done');
  await until(() => last(updates.b, 'in')?.state === 'done', 'the receiver to finish');
  pair.stop();

  const received = last(updates.b, 'in');
  assert.equal(received.name, 'holiday photos.zip');
  assert.equal(received.size, bytes.length);
  assert.equal(received.blob.type, 'application/octet-stream', 'never typed to be shown inline');
  assert.equal(sha(Buffer.from(await received.blob.arrayBuffer())), sha(bytes));

  for (const [side, direction] of [['a', 'out'], ['b', 'in']]) {
    const progress = updates[side].filter((t) => t.direction === direction).map((t) => t.bytes);
    assert.ok(progress.length >= 3, `${side} saw progress: ${progress}`);
    assert.deepEqual(progress, [...progress].sort((x, y) => x - y), `${side}'s progress never goes back`);
    assert.equal(progress.at(-1), bytes.length);
  }
  assert.ok(pair.a.maxBuffered <= HIGH_WATER_BYTES + CHUNK_BYTES + 64, `at most ${HIGH_WATER_BYTES} waited in the channel, saw ${pair.a.maxBuffered}`);
  assert.equal(links.a.busy() || links.b.busy(), false);
});

test('files: transfers both ways at once keep their bytes apart', async () => {
  const { pair, links, updates } = linkedPair();
  const one = randomBytes(200_000);
  const two = randomBytes(300_000);
  const three = randomBytes(50_000);
  const results = await Promise.all([
    links.a.send(new File([one], 'one')).finished,
    links.a.send(new File([two], 'two')).finished,
    links.b.send(new File([three], 'three')).finished,
  ]);
  assert.deepEqual(results, ['done', 'done', 'done']);
  await until(() => updates.b.filter((t) => t.state === 'done' && t.direction === 'in').length === 2 && updates.a.some((t) => t.state === 'done' && t.direction === 'in'), 'all three to arrive');
  pair.stop();
  const byName = new Map([...updates.a, ...updates.b].filter((t) => t.direction === 'in' && t.state === 'done').map((t) => [t.name, t]));
  assert.equal(sha(Buffer.from(await byName.get('one').blob.arrayBuffer())), sha(one));
  assert.equal(sha(Buffer.from(await byName.get('two').blob.arrayBuffer())), sha(two));
  assert.equal(sha(Buffer.from(await byName.get('three').blob.arrayBuffer())), sha(three));
});

test('files: too large is refused with a clear message before anything is sent', async () => {
  const { pair, links, updates } = linkedPair({ maxBytes: 1000 });
  const { transfer, finished } = links.a.send(new File([randomBytes(1001)], 'big.bin'));
  assert.equal(await finished, 'refused');
  assert.equal(transfer.state, 'refused');
  assert.equal(last(updates.a, 'out').reason, 'This file is 1001 B; files up to 1000 B can be sent.');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(updates.b.length, 0, 'the receiver heard nothing');
  assert.equal(sizeProblem(0), 'This file is empty.');
  assert.equal(sizeProblem(150 * 1024 * 1024), 'This file is 150 MB; files up to 100 MB can be sent.');
  pair.stop();
});

test('files: a receiver refuses an offer over its limit even if the sender did not check', async () => {
  const pair = channelPair();
  const updates = [];
  const receiver = createFileLink(pair.b, { onUpdate: (t) => updates.push(t), maxBytes: 1000 });
  pair.b.onmessage = (data) => receiver.receive(data);
  const sender = createFileLink(pair.a, { onUpdate: (t) => updates.push(t), maxBytes: 10_000 });
  pair.a.onmessage = (data) => sender.receive(data);
  assert.equal(await sender.send(new File([randomBytes(5000)], 'x')).finished, 'refused');
  assert.equal(updates.filter((t) => t.direction === 'in').length, 0);
  assert.match(updates.at(-1).reason, /too large/);
  pair.stop();
});

test('files: the sender cancels half way; the receiver drops what it had', async () => {
  let cancel = () => {};
  const { pair, links, updates } = linkedPair({
    bytesPerTick: 32 * 1024,
    onUpdate: (side, transfer) => side === 'b' && transfer.bytes > 100_000 && cancel(),
  });
  const { transfer, finished } = links.a.send(new File([randomBytes(2_000_000)], 'f'));
  cancel = () => transfer.cancel();
  assert.equal(await finished, 'cancelled');
  await until(() => last(updates.b, 'in')?.state === 'cancelled', 'the receiver to hear of it');
  const received = last(updates.b, 'in');
  assert.equal(received.blob, null);
  assert.equal(received.reason, 'The sender cancelled it.');
  assert.equal(links.b.busy(), false);
  pair.stop();
});

test('files: the receiver cancels; the sender stops sending', async () => {
  const { pair, links, updates } = linkedPair({
    bytesPerTick: 32 * 1024,
    onUpdate: (side, transfer) => side === 'b' && transfer.bytes > 100_000 && transfer.cancel(),
  });
  const { finished } = links.a.send(new File([randomBytes(3_000_000)], 'f'));
  assert.equal(await finished, 'cancelled');
  assert.equal(last(updates.a, 'out').reason, 'The other side cancelled it.');
  const sent = last(updates.a, 'out').bytes;
  assert.ok(sent < 3_000_000, `stopped at ${sent}`);
  // Nothing more goes out after the cancel has drained.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const queued = pair.a.queue.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.ok(pair.a.queue.length <= queued);
  assert.equal(pair.a.queue.length, 0);
  pair.stop();
});

test('files: a channel lost mid-transfer ends it on both sides, with nothing half kept', async () => {
  let close = () => {};
  const { pair, links, updates } = linkedPair({
    bytesPerTick: 32 * 1024,
    // Closed from outside the message being handled, as a browser would.
    onUpdate: (side, transfer) => side === 'b' && transfer.bytes > 100_000 && setImmediate(close),
  });
  close = () => pair.close();
  const { finished } = links.a.send(new File([randomBytes(2_000_000)], 'f'));
  assert.equal(await finished, 'lost');
  const received = last(updates.b, 'in');
  assert.equal(received.state, 'lost');
  assert.equal(received.blob, null);
  assert.match(received.reason, /lost/);
  // A later send on the dead link is lost at once, not left hanging.
  assert.equal(await links.a.send(new File([randomBytes(10)], 'g')).finished, 'lost');
});

test('files: hostile frames are ignored or end the transfer, never crash or overflow', async () => {
  const pair = channelPair();
  const updates = [];
  const link = createFileLink(pair.b, { onUpdate: (t) => updates.push(t) });
  const chunk = (id, size) => {
    const bytes = new Uint8Array(4 + size);
    new DataView(bytes.buffer).setUint32(0, id);
    return bytes.buffer;
  };
  for (const junk of [null, 5, '', 'nope', '{"kind":"file-offer"}', '{"kind":"file-offer","id":-1,"size":5}',
    '{"kind":"file-offer","id":1.5,"size":5}', '{"kind":"file-offer","id":3,"size":"5"}', '{"kind":"file-offer","id":4,"size":0}',
    new ArrayBuffer(2), chunk(99, 10), '{"kind":"file-end","id":99}', '{"kind":"file-cancel","id":99,"by":"sender"}']) {
    link.receive(junk);
  }
  assert.equal(updates.length, 0, JSON.stringify(updates));
  link.receive(JSON.stringify({ kind: 'file-offer', id: 7, name: '../../etc/passwd', size: 10 }));
  assert.equal(updates.at(-1).name, 'passwd');
  link.receive(chunk(7, 11));
  assert.equal(updates.at(-1).state, 'failed', 'more bytes than offered');
  link.receive(JSON.stringify({ kind: 'file-offer', id: 8, name: 'a', size: 10 }));
  link.receive(chunk(8, 4));
  link.receive(JSON.stringify({ kind: 'file-end', id: 8 }));
  assert.equal(updates.at(-1).state, 'failed');
  assert.equal(updates.at(-1).reason, 'The file arrived incomplete.');
  pair.stop();
});

test('file names: folders, control and direction characters go; something is always left', () => {
  assert.equal(cleanFileName('C:\\Users\\me\\report.pdf'), 'report.pdf');
  assert.equal(cleanFileName('a/b/../c.txt'), 'c.txt');
  assert.equal(cleanFileName('photo\u202egpj.exe'), 'photogpj.exe');
  assert.equal(cleanFileName('.bashrc'), 'bashrc');
  assert.equal(cleanFileName('...'), 'file');
  assert.equal(cleanFileName(''), 'file');
  assert.equal(cleanFileName(42), 'file');
  assert.equal([...cleanFileName('n'.repeat(500))].length, 120);
  assert.deepEqual([0, 1023, 2048, 5 * 1024 * 1024 + 1, 50 * 1024 * 1024].map(formatBytes), ['0 B', '1023 B', '2 KB', '5.0 MB', '50 MB']);
});
