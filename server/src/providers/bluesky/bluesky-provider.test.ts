import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Registry } from 'prom-client';
import { startFakeJetstream, type FakeJetstream } from '../../../../test/fakes/bluesky/jetstream.js';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { withTimeout } from '../../../../test/support/with-timeout.js';
import { STREAMS, createMemoryBus, createNatsBus, type Bus } from '../../bus/index.js';
import { ChannelRegistry } from '../../channels/index.js';
import { createLogger, createMetrics } from '../../observability/index.js';
import { RawEventIngest } from '../../pipeline/index.js';
import { BlueskyProvider } from './bluesky-provider.js';

const FIRST = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const SECOND = 'did:plc:eeeeeeeeeeeeeeeeeeeeeeee';

describeEachBus('Bluesky provider', (busUnderTest) => {
  let bus: Bus;
  let jetstream: FakeJetstream;
  let provider: BlueskyProvider;
  let channels: ChannelRegistry;

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    jetstream = await startFakeJetstream();
    channels = await ChannelRegistry.open(bus);
    provider = await BlueskyProvider.open({
      bus,
      ingest: new RawEventIngest(bus, createMetrics()),
      registry: new Registry(),
      logger: createLogger({ level: 'silent' }),
      publicUrl: 'https://live.example',
      jetstreamUrl: jetstream.url,
    });
  });

  after(async () => {
    await provider.stop();
    await jetstream.close();
    await bus.close();
  });

  it('stays off Jetstream with no linked account, connects at the first link and follows later links and unlinks', async () => {
    await provider.start();
    assert.equal(jetstream.connections.length, 0, 'no wantedDids would mean the whole network');

    const connected = jetstream.nextConnection();
    await channels.upsert({ publisher: 'acme', slug: 'one' }, { providers: { bluesky: { did: FIRST } } });
    const subscriber = await withTimeout(connected, 5_000, () => 'a connection after the first link');
    assert.deepEqual(subscriber.filter.wantedDids, [FIRST]);

    const updated = jetstream.nextOptionsUpdate();
    await channels.upsert({ publisher: 'acme', slug: 'two' }, { providers: { bluesky: { did: SECOND } } });
    assert.deepEqual([...(await withTimeout(updated, 5_000, () => 'an options_update')).wantedDids], [FIRST, SECOND]);

    const narrowed = jetstream.nextOptionsUpdate();
    await channels.upsert({ publisher: 'acme', slug: 'one' }, { providers: {} });
    assert.deepEqual([...(await withTimeout(narrowed, 5_000, () => 'an options_update after the unlink')).wantedDids], [SECOND]);
  });
});
