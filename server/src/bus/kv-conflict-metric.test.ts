import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { KV_CONFLICTS_METRIC, kvConflictCounter } from './kv-conflict-metric.js';
import { createMemoryBus } from './memory.js';
import { typedKv } from './typed-kv.js';

const numbers = { encode: (value: number) => Buffer.from(String(value)), decode: (data: Uint8Array) => Number(Buffer.from(data).toString()) };

describe('kvConflictCounter', () => {
  it('counts the lost races of every TypedKv of one registry into one metric, by bucket', async () => {
    const registry = new Registry();
    const bus = createMemoryBus();
    try {
      const first = typedKv(await bus.kv('first'), numbers, { conflicts: kvConflictCounter(registry), maxAttempts: 50 });
      const second = typedKv(await bus.kv('second'), numbers, { conflicts: kvConflictCounter(registry), maxAttempts: 50 });
      await Promise.all([...Array.from({ length: 5 }, () => first.update('n', (n) => (n ?? 0) + 1)), ...Array.from({ length: 3 }, () => second.update('n', (n) => (n ?? 0) + 1))]);
      assert.equal((await first.get('n'))?.value, 5);
      const values = (await registry.getSingleMetric(KV_CONFLICTS_METRIC)!.get()).values;
      const byBucket = Object.fromEntries(values.map((value) => [value.labels['bucket'], value.value]));
      // Five writers that all read before any wrote: each write after the first lost once per writer still waiting.
      assert.ok((byBucket['first'] ?? 0) >= 4, `first: ${JSON.stringify(byBucket)}`);
      assert.ok((byBucket['second'] ?? 0) >= 2, `second: ${JSON.stringify(byBucket)}`);
      assert.equal(registry.getMetricsAsArray().filter((metric) => metric.name === KV_CONFLICTS_METRIC).length, 1);
    } finally {
      await bus.close();
    }
  });
});
