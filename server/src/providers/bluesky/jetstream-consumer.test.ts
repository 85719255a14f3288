import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Registry } from 'prom-client';
import { startFakeJetstream, type FakeJetstream, type JetstreamSubscriber } from '../../../../test/fakes/bluesky/jetstream.js';
import { Arrivals } from '../../../../test/support/arrivals.js';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { withTimeout } from '../../../../test/support/with-timeout.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, type Bus, type Subscription } from '../../bus/index.js';
import { ChannelRegistry } from '../../channels/index.js';
import { createLogger, createMetrics } from '../../observability/index.js';
import { RawEventIngest } from '../../pipeline/index.js';
import { decodeRawEvent, type RawProviderEvent } from '../../provider-adapter/index.js';
import { blueskyLinksDirectory } from './bluesky-links-directory.js';
import { createBlueskyMetrics, type BlueskyMetrics, type JetstreamFrameOutcome } from './bluesky-metrics.js';
import { JetstreamConsumer } from './jetstream-consumer.js';
import { JetstreamCursorStore } from './jetstream-cursor-store.js';
import { readBlueskyRawEvent } from './bluesky-raw-event.js';

const LINKED = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const UNLINKED = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb';
const LATER = 'did:plc:cccccccccccccccccccccccc';
const PUBLIC_URL = 'https://live.example';
const REWIND_MS = 5_000;

const liveStatus = (title: string, embedUri = 'https://www.twitch.tv/acme_live') => ({
  $type: 'app.bsky.actor.status',
  status: 'app.bsky.actor.status#live',
  embed: { $type: 'app.bsky.embed.external', external: { uri: embedUri, title, description: '' } },
  durationMinutes: 60,
  createdAt: new Date().toISOString(),
});
const post = (text: string) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });

describeEachBus('Bluesky Jetstream consumer', (busUnderTest) => {
  let bus: Bus;
  let jetstream: FakeJetstream;
  let registry: ChannelRegistry;
  let consumer: JetstreamConsumer;
  let metrics: BlueskyMetrics;
  let rawSubscription: Subscription;
  const seen = new Arrivals<RawProviderEvent>();

  async function newConsumer(): Promise<JetstreamConsumer> {
    metrics = createBlueskyMetrics(new Registry());
    return new JetstreamConsumer({
      jetstreamUrl: jetstream.url,
      ingest: new RawEventIngest(bus, createMetrics()),
      directory: await blueskyLinksDirectory(bus),
      cursors: await JetstreamCursorStore.open(bus),
      metrics,
      logger: createLogger({ level: 'silent' }),
      publicUrl: PUBLIC_URL,
      rewindMs: REWIND_MS,
      cursorFlushMs: 50,
      reconnectInitialMs: 50,
      reconnectMaxMs: 400,
    });
  }

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    jetstream = await startFakeJetstream();
    registry = await ChannelRegistry.open(bus);
    await registry.upsert({ publisher: 'acme', slug: 'show' }, { providers: { bluesky: { did: LINKED }, twitch: { user_id: '4242', login: 'acme_live' } } });
    rawSubscription = bus.subscribe(SUBJECTS.liveRaw('bluesky'), (_subject, data) => {
      seen.push(decodeRawEvent(data));
    });
    consumer = await newConsumer();
  });

  after(async () => {
    await consumer.stop();
    rawSubscription.unsubscribe();
    await jetstream.close();
    await bus.close();
  });

  function published(messageIdPart: string): Promise<RawProviderEvent> {
    return seen.next((event) => event.message_id.includes(messageIdPart), `a raw Bluesky event ${messageIdPart}`).then(async (event) => {
      // The bus may fan out before the publish is acknowledged: let the consumer finish the frame.
      await consumer.idle();
      return event;
    });
  }

  /** Every Bluesky raw event stored in LIVE_RAW (what the pipeline will read), oldest first. */
  async function stored(): Promise<RawProviderEvent[]> {
    const messages = await bus.readLatest(STREAMS.liveRaw.name, { limit: 1000 });
    return messages.filter((message) => message.subject === SUBJECTS.liveRaw('bluesky')).reverse().map((message) => decodeRawEvent(message.data));
  }

  async function frames(outcome: JetstreamFrameOutcome): Promise<number> {
    return (await metrics.frames.get()).values.find((value) => value.labels['outcome'] === outcome)?.value ?? 0;
  }

  it('subscribes to the linked DIDs and collections and publishes a #live status on live.raw.bluesky', async () => {
    const connected = jetstream.nextConnection();
    await consumer.start();
    const subscriber = await withTimeout(connected, 5_000, () => 'the consumer to connect');
    assert.deepEqual(subscriber.filter.wantedDids, [LINKED]);
    assert.deepEqual([...subscriber.filter.wantedCollections].sort(), ['app.bsky.actor.status', 'app.bsky.feed.post']);
    assert.equal(subscriber.cursor, undefined, 'a first start goes live without a cursor');

    const event = jetstream.emitCommit(LINKED, { operation: 'create', collection: 'app.bsky.actor.status', rkey: 'self', record: liveStatus('Morning show'), rev: 'rev-live-1' });
    const raw = await published('rev-live-1');
    assert.equal(raw.provider, 'bluesky');
    assert.equal(raw.message_id, `${LINKED}|app.bsky.actor.status|self|rev-live-1`);
    assert.equal(raw.body, JSON.stringify(event), 'the frame exactly as received');
    assert.equal(readBlueskyRawEvent(raw).commit.rkey, 'self');
    assert.equal(await frames('published'), 1);
  });

  it('publishes nothing for unlinked DIDs, other collections, forged, malformed, oversize and own frames, and counts them', async () => {
    const before = await stored();
    const now = Date.now() * 1000;
    // Frames Jetstream would have filtered, as a misbehaving or forged server would send them.
    jetstream.emitRaw(JSON.stringify({ did: UNLINKED, time_us: now, kind: 'commit', commit: { rev: 'r1', operation: 'create', collection: 'app.bsky.actor.status', rkey: 'self', record: liveStatus('spoof') } }));
    jetstream.emitRaw(JSON.stringify({ did: LINKED, time_us: now, kind: 'commit', commit: { rev: 'r2', operation: 'create', collection: 'app.bsky.feed.like', rkey: '3k', record: { createdAt: new Date().toISOString() } } }));
    jetstream.emitRaw('{"did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "time_us": ');
    jetstream.emitRaw(JSON.stringify({ did: 'not a did', time_us: now, kind: 'commit', commit: { rev: 'r3', operation: 'create', collection: 'app.bsky.actor.status', rkey: 'self' } }));
    jetstream.emitRaw(JSON.stringify({ did: LINKED, time_us: now, kind: 'commit', commit: { rev: 'r4', operation: 'explode', collection: 'app.bsky.actor.status', rkey: 'self' } }));
    jetstream.emitRaw(JSON.stringify({ did: LINKED, time_us: (Date.now() + 24 * 3600_000) * 1000, kind: 'commit', commit: { rev: 'r5', operation: 'create', collection: 'app.bsky.feed.post', rkey: 'future', record: post('x') } }));
    jetstream.emitRaw(JSON.stringify({ did: LINKED, time_us: now, kind: 'commit', commit: { rev: 'r6', operation: 'create', collection: 'app.bsky.feed.post', rkey: 'big', record: post('x'.repeat(100 * 1024)) } }));
    jetstream.emitRaw(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00]));
    // Our own write-back record, coming back through Jetstream.
    jetstream.emitCommit(LINKED, { operation: 'create', collection: 'app.bsky.actor.status', rkey: 'self', record: liveStatus('ours', `${PUBLIC_URL}/c/acme/show`), rev: 'r-own' });
    jetstream.emitIdentity(LINKED, 'acme.test');
    // A good frame after them: frames are handled in order, so once it is out, they were all handled.
    jetstream.emitCommit(LINKED, { operation: 'create', collection: 'app.bsky.feed.post', rkey: '3sentinel', record: post('live now twitch.tv/acme_live'), rev: 'rev-sentinel' });
    await published('rev-sentinel');

    const after = await stored();
    assert.deepEqual(after.slice(before.length).map((event) => event.message_id), [`${LINKED}|app.bsky.feed.post|3sentinel|rev-sentinel`]);
    assert.equal(await frames('unlinked'), 1);
    assert.equal(await frames('other_collection'), 1);
    assert.equal(await frames('malformed'), 2, 'broken JSON and a binary frame');
    assert.equal(await frames('invalid'), 3, 'a bad DID, a bad operation, a time far in the future');
    assert.equal(await frames('oversize'), 1);
    assert.equal(await frames('own_status'), 1);
    assert.equal(await frames('other_kind'), 1);
  });

  it('reconnects after a drop, resuming from its cursor minus the rewind: no gap, no duplicate', async () => {
    const a = jetstream.emitCommit(LINKED, { operation: 'update', collection: 'app.bsky.actor.status', rkey: 'self', record: liveStatus('A'), rev: 'rev-a' });
    await published('rev-a');
    const connectionsBefore = jetstream.connections.length;
    jetstream.refuseConnections();
    const refused = jetstream.nextRefusal();
    jetstream.dropConnections();
    // Missed while disconnected: only the replay can deliver it.
    jetstream.emitCommit(LINKED, { operation: 'create', collection: 'app.bsky.feed.post', rkey: '3missed', record: post('youtu.be/x'), rev: 'rev-missed' });
    const b = jetstream.emitCommit(LINKED, { operation: 'create', collection: 'app.bsky.feed.post', rkey: '3b', record: post('twitch.tv/acme_live'), rev: 'rev-b' });
    await withTimeout(refused, 5_000, () => 'a refused reconnect');
    const reconnected = jetstream.nextConnection();
    jetstream.acceptConnections();
    const subscriber: JetstreamSubscriber = await withTimeout(reconnected, 5_000, () => 'the reconnect');
    assert.equal(jetstream.connections.length, connectionsBefore + 1, 'one new connection after the refusals');
    assert.equal(subscriber.cursor, a.time_us - REWIND_MS * 1000);
    await published('rev-b');

    const ids = (await stored()).map((event) => event.message_id);
    for (const rev of ['rev-live-1', 'rev-sentinel', 'rev-a', 'rev-missed', 'rev-b']) {
      assert.equal(ids.filter((id) => id.endsWith(`|${rev}`)).length, 1, `${rev} stored exactly once`);
    }
    assert.ok((await frames('duplicate')) >= 1, 'the rewound replay was deduplicated');
    assert.equal(consumer.cursor, b.time_us);
  });

  it('resumes from the KV cursor after a restart (a new consumer on the same bus)', async () => {
    const cursorAtStop = consumer.cursor;
    await consumer.stop();
    assert.equal(await (await JetstreamCursorStore.open(bus)).get(), cursorAtStop, 'the cursor is saved at stop');
    const c = jetstream.emitCommit(LINKED, { operation: 'create', collection: 'app.bsky.feed.post', rkey: '3c', record: post('live.example/c/acme/show'), rev: 'rev-c' });

    consumer = await newConsumer();
    const connected = jetstream.nextConnection();
    await consumer.start();
    const subscriber = await withTimeout(connected, 5_000, () => 'the restarted consumer to connect');
    assert.equal(subscriber.cursor, (cursorAtStop ?? 0) - REWIND_MS * 1000);
    await published('rev-c');
    const ids = (await stored()).map((event) => event.message_id);
    assert.equal(ids.filter((id) => id.endsWith('|rev-c')).length, 1);
    assert.equal(ids.filter((id) => id.endsWith('|rev-b')).length, 1, 'the replayed overlap is not published twice');
    assert.equal(consumer.cursor, c.time_us);
  });

  it('sends an options_update when a new account is linked, and then hears from it', async () => {
    const updated = jetstream.nextOptionsUpdate();
    await registry.upsert({ publisher: 'acme', slug: 'later' }, { providers: { bluesky: { did: LATER } } });
    await consumer.refreshLinks();
    const filter = await withTimeout(updated, 5_000, () => 'an options_update');
    assert.deepEqual([...filter.wantedDids].sort(), [LINKED, LATER].sort());
    assert.deepEqual(consumer.wantedDids, [LINKED, LATER].sort());
    jetstream.emitCommit(LATER, { operation: 'create', collection: 'app.bsky.actor.status', rkey: 'self', record: liveStatus('Later show'), rev: 'rev-later' });
    const raw = await published('rev-later');
    assert.equal(readBlueskyRawEvent(raw).did, LATER);
  });
});
