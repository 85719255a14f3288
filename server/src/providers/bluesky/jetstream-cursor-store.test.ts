import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { BUCKETS, createMemoryBus, createNatsBus, type Bus } from '../../bus/index.js';
import { JetstreamCursorStore } from './jetstream-cursor-store.js';

describeEachBus('the shared Jetstream cursor', (busUnderTest) => {
  let bus: Bus;

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
  });
  after(async () => {
    await bus.close();
  });

  it('moves forward only: a reader saving late cannot send the next one back', async () => {
    const holder = await JetstreamCursorStore.open(bus);
    const stale = await JetstreamCursorStore.open(bus);
    assert.equal(await holder.get(), undefined);
    await holder.advance(2_000);
    await stale.advance(1_000);
    assert.equal(await holder.get(), 2_000, 'the older cursor was not saved');
    await stale.advance(2_000);
    await holder.advance(3_000);
    assert.equal(await stale.get(), 3_000);
  });

  it('reads an unreadable saved value as no cursor, and overwrites it', async () => {
    const store = await JetstreamCursorStore.open(bus);
    const bucket = await bus.kv(BUCKETS.blueskyJetstream);
    for (const garbage of ['not json', '{"time_us":-5}', '{"time_us":"soon"}', '[]']) {
      await bucket.put('cursor', new TextEncoder().encode(garbage));
      assert.equal(await store.get(), undefined, garbage);
      await store.advance(42);
      assert.equal(await store.get(), 42, garbage);
    }
  });
});
