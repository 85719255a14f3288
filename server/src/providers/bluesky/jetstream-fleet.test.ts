import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { Registry } from 'prom-client';
import { startFakeJetstream, type FakeJetstream } from '../../../../test/fakes/bluesky/jetstream.js';
import { Arrivals } from '../../../../test/support/arrivals.js';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { eventually } from '../../../../test/support/eventually.js';
import { withTimeout } from '../../../../test/support/with-timeout.js';
import { BUCKETS, STREAMS, SUBJECTS, createMemoryBus, createNatsBus, type Bus, type Subscription } from '../../bus/index.js';
import { ChannelRegistry } from '../../channels/index.js';
import { createLogger, createMetrics } from '../../observability/index.js';
import { RawEventIngest } from '../../pipeline/index.js';
import { decodeRawEvent, type RawProviderEvent } from '../../provider-adapter/index.js';
import { BLUESKY_JETSTREAM_LEASE_KEY, BlueskyProvider, type BlueskyProviderOptions } from './bluesky-provider.js';
import { JETSTREAM_DEFAULTS } from './jetstream-consumer.js';
import { JetstreamCursorStore } from './jetstream-cursor-store.js';

const LINKED = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const REWIND_US = JETSTREAM_DEFAULTS.rewindMs * 1000;

const post = (text: string) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });

describeEachBus('Bluesky Jetstream in a fleet', (busUnderTest) => {
  let bus: Bus;
  let jetstream: FakeJetstream;
  let rawSubscription: Subscription;
  const seen = new Arrivals<RawProviderEvent>();
  const providers: BlueskyProvider[] = [];
  const buses: Bus[] = [];

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    jetstream = await startFakeJetstream();
    const registry = await ChannelRegistry.open(bus);
    await registry.upsert({ publisher: 'acme', slug: 'show' }, { providers: { bluesky: { did: LINKED } } });
    rawSubscription = bus.subscribe(SUBJECTS.liveRaw('bluesky'), (_subject, data) => seen.push(decodeRawEvent(data)));
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((provider) => provider.stop()));
    await Promise.all(buses.splice(0).map((own) => own.close()));
    await (await bus.kv(BUCKETS.leases)).delete(BLUESKY_JETSTREAM_LEASE_KEY);
  });
  after(async () => {
    rawSubscription.unsubscribe();
    await jetstream.close();
    await bus.close();
  });

  /** A replica's Bluesky provider: every one has Jetstream on. */
  async function replica(name: string, options: Partial<BlueskyProviderOptions> = {}): Promise<BlueskyProvider> {
    const replicaBus = options.bus ?? bus;
    const provider = await BlueskyProvider.open({
      bus: replicaBus,
      ingest: new RawEventIngest(replicaBus, createMetrics()),
      registry: new Registry(),
      logger: createLogger({ level: 'silent' }),
      publicUrl: 'https://live.example',
      jetstreamUrl: jetstream.url,
      jetstreamLeaseHolder: name,
      jetstreamLeaseRenewEveryMs: 50,
      ...options,
    });
    providers.push(provider);
    await provider.start();
    return provider;
  }

  /** Emits a post and waits until it is on `live.raw.bluesky`. */
  async function postAndSee(text: string): Promise<number> {
    const event = jetstream.emitCommit(LINKED, { operation: 'create', collection: 'app.bsky.feed.post', rkey: text, record: post(text), rev: `rev-${text}` });
    await seen.next((raw) => raw.message_id.includes(`rev-${text}`), `the post ${text} published`);
    return event.time_us;
  }

  it('one replica reads Jetstream; when it stops the other takes over from the shared cursor and loses nothing', async () => {
    const before = jetstream.connections.length;
    const a = await replica('a');
    const b = await replica('b');
    assert.deepEqual([a.jetstreamLease.isHolder, b.jetstreamLease.isHolder], [true, false]);
    const readers = async () => Promise.all([a, b].map(async (replica) => (await replica.metrics.reader.get()).values[0]?.value));
    assert.deepEqual(await readers(), [1, 0], 'live_upload_bluesky_jetstream_reader says which replica reads');
    await eventually(() => jetstream.subscribers().length === 1, 'the holder to connect');
    const lastSeen = await postAndSee('one');
    await eventually(() => a.jetstream.cursor === lastSeen, 'a to handle it');
    // Many lease rounds later, still only the holder is connected.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(jetstream.subscribers().length, 1);
    assert.equal(jetstream.connections.length - before, 1, 'the standby never connected');

    const takenOver = jetstream.nextConnection();
    await a.stop();
    // Posted while nobody reads: the next holder replays it from the cursor.
    const gap = jetstream.emitCommit(LINKED, { operation: 'create', collection: 'app.bsky.feed.post', rkey: 'gap', record: post('gap'), rev: 'rev-gap' });
    const subscriber = await withTimeout(takenOver, 5_000, () => 'b to connect after a stopped');
    assert.equal(b.jetstreamLease.isHolder, true);
    assert.equal(subscriber.cursor, lastSeen - REWIND_US, 'b resumes where a left off, rewound');
    await eventually(async () => (await readers()).join() === '0,1', 'the reader gauge to follow the lease');
    await seen.next((raw) => raw.message_id.includes('rev-gap'), 'the post made in the handover published');
    await eventually(() => b.jetstream.cursor !== undefined && b.jetstream.cursor >= gap.time_us, 'b to move the cursor on');
    assert.equal(jetstream.subscribers().length, 1);
    // The replayed overlap is dropped by msg id: LIVE_RAW (what the pipeline reads) holds each post once.
    const stored = (await bus.readLatest(STREAMS.liveRaw.name, { limit: 1000 })).map((message) => decodeRawEvent(message.data).message_id);
    assert.deepEqual([stored.filter((id) => id.includes('rev-one')).length, stored.filter((id) => id.includes('rev-gap')).length], [1, 1]);
  });

  if (busUnderTest.kind === 'nats') {
    it('a reader cut off from the bus is replaced once its lease ran out, from the cursor it last saved', async () => {
      const own = await createNatsBus({ url: busUnderTest.natsUrl()! });
      buses.push(own);
      const timing = { jetstreamLeaseMs: 600, jetstreamLeaseMaxClockSkewMs: 100 };
      const a = await replica('a', { bus: own, ...timing });
      const b = await replica('b', timing);
      assert.equal(a.jetstreamLease.isHolder, true);
      const lastSeen = await postAndSee('two');
      const cursors = await JetstreamCursorStore.open(bus);
      await eventually(async () => (await cursors.get()) === lastSeen, 'the cursor saved in KV', 5_000);

      const takenOver = jetstream.nextConnection();
      const cutAt = Date.now();
      // a loses the bus (its process hangs, its network splits): it can no longer renew.
      await own.close();
      const subscriber = await withTimeout(takenOver, 5_000, () => 'b to take over');
      const tookMs = Date.now() - cutAt;
      assert.ok(tookMs >= timing.jetstreamLeaseMs / 2, `not before a's lease could have run out (${tookMs} ms)`);
      assert.equal(b.jetstreamLease.isHolder, true);
      assert.equal(subscriber.cursor, lastSeen - REWIND_US);
      await eventually(() => jetstream.subscribers().length === 1, 'a to disconnect once its lease ran out', 5_000);
    });
  }
});
