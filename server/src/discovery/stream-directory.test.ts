import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createCanonicalId, type LiveMetadata } from '@live-upload/schema';
import { AudienceStore, audienceEngagement, foldBeacons, minuteOf, type AudienceBeacon } from '../audience/index.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { BUCKETS, STREAMS, createMemoryBus, createNatsBus, type Bus } from '../bus/index.js';
import { ChannelRegistry } from '../channels/index.js';
import { LiveStatusHub } from '../live/index.js';
import { createLogger, createMetrics } from '../observability/index.js';
import { LivePipeline } from '../pipeline/index.js';
import { StreamDirectory } from './stream-directory.js';

describeEachBus('stream directory', (under) => {
  let bus: Bus;
  let registry: ChannelRegistry;
  let pipeline: LivePipeline;
  let hub: LiveStatusHub;
  let directory: StreamDirectory | undefined;
  const logger = createLogger({ level: 'silent' });

  before(async () => {
    const natsUrl = under.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'stream-directory-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    registry = await ChannelRegistry.open(bus);
    pipeline = await LivePipeline.open({ bus, channels: registry, logger, metrics: createMetrics(), adapters: [], graceWindowMs: 200, coalesceMs: 50 });
    hub = new LiveStatusHub(bus, (channel) => pipeline.readRecord(channel), (channel) => pipeline.placeholderRecord(channel), logger);
    hub.start();
  });
  after(async () => {
    directory?.stop();
    hub.stop();
    await bus.close();
  });

  const names = (found: StreamDirectory) => found.sortedBy('trending').map((entry) => `${entry.channel}=${entry.channelName}:${entry.record.status}`);
  const liveRecord = (channel: string, seq: number): LiveMetadata => ({ ...pipeline.placeholderRecord(channel), status: 'live', started_at: new Date().toISOString(), seq });

  it('starts with every configured channel, follows configs and statuses, and never indexes an unconfigured name', async () => {
    await registry.upsert({ publisher: 'acme', slug: 'one' }, { title: 'One', providers: {} });
    await registry.upsert({ publisher: 'acme', slug: 'two' }, { providers: {} });
    directory = await StreamDirectory.open({ bus, hub, logger });
    await directory.start();
    assert.deepEqual(names(directory), ['acme/one=One:offline', 'acme/two=acme/two:offline']);
    const sorted = directory.sortedBy('trending');
    assert.equal(directory.sortedBy('trending'), sorted, 'the sorted view is reused while nothing changed');

    // A status for a configured channel moves it; one for a name nobody configured is not kept.
    hub.accept(liveRecord('ghost/nobody', 5));
    hub.accept(liveRecord('acme/two', 10));
    assert.deepEqual(names(directory), ['acme/two=acme/two:live', 'acme/one=One:offline']);
    assert.notEqual(directory.sortedBy('trending'), sorted);

    // A config written anywhere (the bucket's watch), renamed, then deleted.
    await registry.upsert({ publisher: 'acme', slug: 'three' }, { title: 'Three', providers: {} });
    const found = directory;
    await eventually(() => found.size === 3, 'the new channel to be indexed');
    await registry.upsert({ publisher: 'acme', slug: 'one' }, { title: 'One, renamed', providers: {} });
    await eventually(() => names(found).includes('acme/one=One, renamed:offline'), 'the rename');
    await (await bus.kv(BUCKETS.channelConfig)).delete('acme/three');
    await eventually(() => found.size === 2, 'the deleted channel to leave');
    assert.deepEqual(names(directory), ['acme/two=acme/two:live', 'acme/one=One, renamed:offline'], 'the ghost never entered');

  });

  it('re-ranks trending when the audience aggregate of a listed broadcast changes anywhere (issue 27)', async () => {
    directory?.stop();
    const store = await AudienceStore.open(bus);
    await registry.upsert({ publisher: 'acme', slug: 'big' }, { providers: {} });
    await registry.upsert({ publisher: 'acme', slug: 'small' }, { providers: {} });
    const big = createCanonicalId({ publisher: 'acme', slug: 'big' }, Date.now() - 60_000);
    const small = createCanonicalId({ publisher: 'acme', slug: 'small' }, Date.now() - 30_000);
    hub.accept({ ...liveRecord('acme/big', 20), canonical_id: big, viewer_count: 30 });
    hub.accept({ ...liveRecord('acme/small', 20), canonical_id: small, viewer_count: 10 });
    const found = (directory = await StreamDirectory.open({ bus, hub, logger, engagement: audienceEngagement(store) }));
    await found.start();
    const live = () => found.sortedBy('trending').filter((entry) => entry.record.status === 'live').map((entry) => entry.channel);
    assert.deepEqual(live().slice(0, 2), ['acme/big', 'acme/small'], 'by viewer count while nothing is counted');

    // The small stream's viewers clip: 10 x (1 + 3 + 1/60) = 40 > 30.
    const minute = minuteOf(Date.now());
    const beacons: AudienceBeacon[] = ['a', 'b', 'c'].map((session, index) => ({ canonical_id: small, channel: 'acme/small', event: 'clip', surface: 'landing', host: null, source: 'direct', session, n: index + 1, at: Date.now() }));
    await store.updateMinute(small, minute, (current) => foldBeacons(current, small, minute, beacons));
    await eventually(() => live()[0] === 'acme/small', 'the engaged stream to rank first');
    const entry = found.sortedBy('trending')[0]!;
    assert.equal(entry.trendingScore, 40);
  });
});
