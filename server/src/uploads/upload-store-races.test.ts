import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Registry } from 'prom-client';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';
import { BUCKETS, KV_CONFLICTS_METRIC, createMemoryBus, createNatsBus, kvConflictCounter, type Bus } from '../bus/index.js';
import { UploadStore, type PlaceCaps } from './upload-store.js';

const HOUR_MS = 3600 * 1000;

async function conflictsCounted(registry: Registry): Promise<number> {
  const values = (await registry.getSingleMetric(KV_CONFLICTS_METRIC)?.get())?.values ?? [];
  return values.find((value) => value.labels['bucket'] === BUCKETS.uploads)?.value ?? 0;
}

describeEachBus('UploadStore under concurrent writers (two stores on one bus, as two replicas)', (under) => {
  let buses: Bus[];
  let registry: Registry;
  let first: UploadStore;
  let second: UploadStore;

  before(async () => {
    const natsUrl = under.natsUrl();
    buses = natsUrl
      ? [await createNatsBus({ url: natsUrl, name: 'upload-store-races-a' }), await createNatsBus({ url: natsUrl, name: 'upload-store-races-b' })]
      : [createMemoryBus()];
    registry = new Registry();
    const conflicts = kvConflictCounter(registry);
    first = await UploadStore.open(buses[0]!, Date.now, { conflicts });
    second = await UploadStore.open(buses.at(-1)!, Date.now, { conflicts });
  });
  after(async () => {
    for (const bus of buses) await bus.close();
  });

  it('lands every concurrent change of one record, retrying and counting the races it lost', async () => {
    const record = uploadRecordFixture({ channel: 'acme/races' });
    await first.create(record);
    const before = await conflictsCounted(registry);
    // Six writers (at most five lost races each, under the eight attempts a record change has).
    const markers = Array.from({ length: 6 }, (_, index) => `[${index}]`);
    await Promise.all(markers.map((marker, index) => (index % 2 ? second : first).update(record.upload_id, (current) => ({ ...current, title: `${current.title ?? ''}${marker}` }))));
    const title = (await second.get(record.upload_id))?.title ?? '';
    assert.deepEqual([...title.matchAll(/\[\d\]/g)].map(([marker]) => marker).sort(), markers, `no change lost: ${title}`);
    assert.ok((await conflictsCounted(registry)) > before, 'the lost races are counted on the uploads bucket');
  });

  it('admits exactly the cap of a channel when grants race from both stores', async () => {
    const caps = (client: string): PlaceCaps => ({ maxPending: 3, maxPendingPerClient: 10, client, startWindowMs: HOUR_MS, uploadingTtlMs: HOUR_MS });
    const refusals = await Promise.all(
      Array.from({ length: 8 }, (_, index) => (index % 2 ? second : first).createWithinCaps(uploadRecordFixture({ channel: 'acme/cap-race' }), caps(`client:${index}`))),
    );
    assert.equal(refusals.filter((refusal) => refusal === undefined).length, 3);
    assert.ok(refusals.every((refusal) => refusal === undefined || refusal.scope === 'channel'));
    assert.equal((await first.list()).filter((stored) => stored.channel === 'acme/cap-race').length, 3, 'a refused grant stores nothing');
  });
});
