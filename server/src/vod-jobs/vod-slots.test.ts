import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryBus } from '../bus/index.js';
import { VodSlots } from './vod-slots.js';

describe('VodSlots', () => {
  it('caps one publisher across holders, renews a holder, frees on release and when a holder stops renewing', async () => {
    let nowMs = 1_000_000;
    const bus = createMemoryBus();
    // Two replicas on one bus: the cap is the fleet's, not a process's.
    const [a, b] = await Promise.all([VodSlots.open(bus, () => nowMs), VodSlots.open(bus, () => nowMs)]);
    assert.equal(await a.acquire('acme', 'one', 2, 10_000), true);
    assert.equal(await b.acquire('acme', 'two', 2, 10_000), true);
    assert.equal(await b.acquire('acme', 'three', 2, 10_000), false);
    assert.equal(await a.acquire('other', 'four', 2, 10_000), true, 'another publisher has its own slots');
    assert.equal(await a.acquire('acme', 'one', 2, 10_000), true, 'a holder renews');
    await b.release('acme', 'two');
    assert.equal(await b.acquire('acme', 'three', 2, 10_000), true);
    nowMs += 9_000;
    assert.equal(await a.acquire('acme', 'one', 2, 10_000), true);
    nowMs += 2_000;
    // 'three' was not renewed: it lapsed (its replica died); 'one' was.
    assert.deepEqual(await a.holders('acme'), ['one']);
    assert.equal(await b.acquire('acme', 'five', 2, 10_000), true);
    assert.equal(await b.acquire('acme', 'six', 2, 10_000), false);
    await bus.close();
  });
});
