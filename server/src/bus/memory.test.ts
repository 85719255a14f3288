import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busContract } from './bus.contract.js';
import { MemoryKv, createMemoryBus } from './memory.js';

busContract('memory', async () => createMemoryBus());

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
