import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busContract } from './bus.contract.js';
import type { Bus, BusMessage } from './bus.js';
import { createMemoryBus } from './memory.js';
import { MemoryKv } from './memory-kv.js';

busContract('memory', async () => createMemoryBus());

describe('memory bus: what a stream keeps', () => {
  const config = (name: string, retention: 'limits' | 'workqueue' = 'limits') => ({
    name,
    subjects: [`${name.toLowerCase()}.>`],
    retention,
    maxAgeMs: 60 * 60 * 1000,
    duplicateWindowMs: 60 * 1000,
  });
  const text = (data: Uint8Array): string => new TextDecoder().decode(data);
  const publishAll = async (bus: Bus, subject: (i: number) => string, count: number): Promise<void> => {
    for (let i = 0; i < count; i++) await bus.publish(subject(i), new TextEncoder().encode(String(i)), { msgId: `m-${i}` });
  };

  it('keeps the newest messages up to the cap when no consumer needs the rest; the dedupe window is kept apart', async () => {
    const bus = createMemoryBus({ maxMessagesPerStream: 5 });
    await bus.ensureStreams([config('KEPT')]);
    await publishAll(bus, () => 'kept.a', 12);
    const kept = await bus.readLatest('KEPT', { limit: 100 });
    assert.deepEqual(kept.map((message) => text(message.data)), ['11', '10', '9', '8', '7']);
    assert.deepEqual(kept.map((message) => message.seq), [12, 11, 10, 9, 8]);
    const again = await bus.publish('kept.a', new TextEncoder().encode('0'), { msgId: 'm-0' });
    assert.deepEqual(again, { stream: 'KEPT', seq: 1, duplicate: true }, 'a dropped message still dedupes inside the window');
    await bus.close();
  });

  /** A handler that holds each message until `finish` is called for it (the bus then acks it). */
  function holdingHandler() {
    const held: Array<{ message: BusMessage; finish: () => void }> = [];
    return {
      held,
      handler: (message: BusMessage) => new Promise<void>((resolve) => held.push({ message, finish: resolve })),
      finishAll: () => {
        for (const entry of held.splice(0)) entry.finish();
      },
    };
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('never drops what a durable consumer has yet to deliver or see acked; drops it once it is done', async () => {
    const bus = createMemoryBus({ maxMessagesPerStream: 3 });
    await bus.ensureStreams([config('LAGGING')]);
    const slow = holdingHandler();
    await bus.consume({ stream: 'LAGGING', durable: 'slow', maxAckPending: 2 }, slow.handler);
    await publishAll(bus, () => 'lagging.a', 10);
    await turn();
    assert.deepEqual(slow.held.map(({ message }) => text(message.data)), ['0', '1'], 'two in flight, eight waiting');
    assert.equal((await bus.readLatest('LAGGING', { limit: 100 })).length, 10, 'the whole backlog is kept');

    const delivered: string[] = [];
    for (let entry = slow.held.shift(); entry; entry = slow.held.shift()) {
      delivered.push(text(entry.message.data));
      entry.finish();
      await turn();
    }
    assert.deepEqual(delivered, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], 'every message delivered, in order');
    await bus.publish('lagging.a', new TextEncoder().encode('10'), { msgId: 'm-10' });
    assert.deepEqual((await bus.readLatest('LAGGING', { limit: 100 })).map((message) => text(message.data)), ['10', '9', '8']);
    slow.finishAll();
    await bus.close();
  });

  it('a filtered consumer holds only what its filter takes', async () => {
    const bus = createMemoryBus({ maxMessagesPerStream: 2 });
    await bus.ensureStreams([config('FILTERED')]);
    const onlyB = holdingHandler();
    await bus.consume({ stream: 'FILTERED', durable: 'only-b', filterSubject: 'filtered.b' }, onlyB.handler);
    await publishAll(bus, () => 'filtered.a', 6);
    await bus.publish('filtered.b', new TextEncoder().encode('b'), { msgId: 'b' });
    await turn();
    assert.deepEqual((await bus.readLatest('FILTERED', { limit: 100 })).map((message) => text(message.data)), ['b', '5']);
    await bus.publish('filtered.a', new TextEncoder().encode('6'), { msgId: 'm-6' });
    await bus.publish('filtered.a', new TextEncoder().encode('7'), { msgId: 'm-7' });
    assert.deepEqual(
      (await bus.readLatest('FILTERED', { limit: 100 })).map((message) => text(message.data)),
      ['7', '6', 'b'],
      'b, not yet acked, stays, and so does what came after it',
    );
    onlyB.finishAll();
    await turn();
    await bus.publish('filtered.a', new TextEncoder().encode('8'), { msgId: 'm-8' });
    assert.deepEqual((await bus.readLatest('FILTERED', { limit: 100 })).map((message) => text(message.data)), ['8', '7']);
    await bus.close();
  });

  it('never caps a work queue: its messages wait for a consumer, however many', async () => {
    const bus = createMemoryBus({ maxMessagesPerStream: 3 });
    await bus.ensureStreams([config('JOBS', 'workqueue')]);
    await publishAll(bus, () => 'jobs.a', 8);
    const done: string[] = [];
    const consumer = await bus.consume({ stream: 'JOBS', durable: 'late-worker' }, (message) => {
      done.push(text(message.data));
    });
    for (let i = 0; i < 10 && done.length < 8; i++) await turn();
    assert.deepEqual(done, ['0', '1', '2', '3', '4', '5', '6', '7']);
    await consumer.stop();
    await bus.close();
  });

  it('slides its duplicate window: each id is a duplicate for exactly its own window, whatever came after it', async () => {
    let nowMs = 0;
    const bus = createMemoryBus({ now: () => nowMs });
    await bus.ensureStreams([config('WINDOW')]); // 60 s window
    const publish = (msgId: string) => bus.publish('window.a', new TextEncoder().encode(msgId), { msgId });
    for (let i = 0; i < 3_000; i++) {
      nowMs = i * 100; // one id every 100 ms, for five minutes
      assert.equal((await publish(`id-${i}`)).duplicate, false);
      if (i >= 599) {
        assert.equal((await publish(`id-${i - 599}`)).duplicate, true, `id-${i - 599} is 59.9 s old`);
        const expired = await publish(`id-${i - 600}`);
        assert.equal(expired.duplicate, false, `id-${i - 600} is 60 s old: stored again`);
      }
    }
    await bus.close();
  });

  it('refuses a cap that is not a positive integer', () => {
    assert.throws(() => createMemoryBus({ maxMessagesPerStream: 0 }), RangeError);
    assert.throws(() => createMemoryBus({ maxMessagesPerStream: 1.5 }), RangeError);
  });
});

describe('memory KV with a ttl', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  it('lets go of expired entries nobody reads again, so the bucket holds one ttl of keys', () => {
    let nowMs = 1_000_000;
    const kv = new MemoryKv('seen', 60_000, () => nowMs);
    for (let i = 0; i < 10_000; i++) void kv.put(`id-${i}`, bytes('1'));
    assert.equal(kv.heldEntries, 10_000);
    nowMs += 30_000;
    for (let i = 0; i < 100; i++) void kv.put(`later-${i}`, bytes('1'));
    assert.equal(kv.heldEntries, 10_100, 'nothing is due yet');
    nowMs += 30_000;
    void kv.put('now', bytes('1'));
    assert.equal(kv.heldEntries, 101, 'the first 10,000 reached their ttl');
  });

  it('counts the ttl from the last write of a key, not its first', async () => {
    let nowMs = 0;
    const kv = new MemoryKv('seen', 1_000, () => nowMs);
    await kv.put('a', bytes('1'));
    await kv.put('b', bytes('1'));
    nowMs = 900;
    await kv.put('a', bytes('2'));
    nowMs = 1_000;
    await kv.put('c', bytes('1'));
    assert.equal((await kv.get('b'))?.value, undefined);
    assert.deepEqual([...(await kv.get('a'))!.value], [...bytes('2')]);
    assert.deepEqual(await kv.keys(), ['a', 'c']);
  });

  it('keeps everything in a bucket without a ttl', async () => {
    let nowMs = 0;
    const kv = new MemoryKv('state', 0, () => nowMs);
    await kv.put('a', bytes('1'));
    nowMs = 365 * 24 * 3_600_000;
    await kv.put('b', bytes('1'));
    assert.equal(kv.heldEntries, 2);
    assert.ok(await kv.get('a'));
  });
});
