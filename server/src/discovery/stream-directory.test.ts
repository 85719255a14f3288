import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
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
});
