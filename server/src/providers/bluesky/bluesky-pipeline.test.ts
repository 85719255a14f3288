import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { liveMetadataSchema, type LiveMetadata } from '@live-upload/schema';
import { Registry } from 'prom-client';
import { startFakeJetstream, type FakeJetstream } from '../../../../test/fakes/bluesky/jetstream.js';
import { createEventSubSender, type EventSubWebhookRequest } from '../../../../test/fakes/twitch/eventsub.js';
import { Arrivals } from '../../../../test/support/arrivals.js';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { withTimeout } from '../../../../test/support/with-timeout.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, decodeJson, type Bus, type Subscription } from '../../bus/index.js';
import { ChannelRegistry } from '../../channels/index.js';
import { createLogger, createMetrics, type Metrics } from '../../observability/index.js';
import { LivePipeline, RawEventIngest } from '../../pipeline/index.js';
import { decodeRawEvent } from '../../provider-adapter/index.js';
import { providerEventAdapters } from '../index.js';
import { blueskyLinksDirectory } from './bluesky-links-directory.js';
import { createBlueskyMetrics } from './bluesky-metrics.js';
import { JetstreamConsumer } from './jetstream-consumer.js';
import { JetstreamCursorStore } from './jetstream-cursor-store.js';

const DID = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const REF = { publisher: 'acme', slug: 'show' };
const CHANNEL = 'acme/show';
const BROADCASTER = { id: '4242', login: 'acme_live', name: 'Acme_Live' };
const STATUS_URI = `at://${DID}/app.bsky.actor.status/self`;

const liveStatus = (createdAtMs: number) => ({
  $type: 'app.bsky.actor.status',
  status: 'app.bsky.actor.status#live',
  embed: { $type: 'app.bsky.embed.external', external: { uri: 'https://www.twitch.tv/acme_live', title: 'Live from Bluesky', description: '' } },
  durationMinutes: 60,
  createdAt: new Date(createdAtMs).toISOString(),
});

describeEachBus('Bluesky signals through the live pipeline', (busUnderTest) => {
  let bus: Bus;
  let metrics: Metrics;
  let jetstream: FakeJetstream;
  let consumer: JetstreamConsumer;
  let pipeline: LivePipeline;
  let statusSubscription: Subscription;
  const emits = new Arrivals<LiveMetadata>();
  const twitch = createEventSubSender({ secret: 'test-eventsub-secret-0123456789', broadcaster: BROADCASTER });

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    metrics = createMetrics();
    const channels = await ChannelRegistry.open(bus);
    await channels.upsert(REF, { title: 'Acme show', providers: { twitch: { user_id: BROADCASTER.id, login: BROADCASTER.login }, bluesky: { did: DID } } });
    statusSubscription = bus.subscribe(SUBJECTS.liveStatus(REF), (_subject, data) => {
      emits.push(decodeJson(data, liveMetadataSchema));
    });
    pipeline = await LivePipeline.open({ bus, channels, logger: createLogger({ level: 'silent' }), metrics, adapters: providerEventAdapters(() => 'http://127.0.0.1:8080'), graceWindowMs: 200, coalesceMs: 0 });
    await pipeline.start();
    jetstream = await startFakeJetstream();
    consumer = new JetstreamConsumer({
      jetstreamUrl: jetstream.url,
      ingest: new RawEventIngest(bus, metrics),
      directory: await blueskyLinksDirectory(bus),
      cursors: await JetstreamCursorStore.open(bus),
      metrics: createBlueskyMetrics(new Registry()),
      logger: createLogger({ level: 'silent' }),
      publicUrl: 'https://live.example',
    });
    const connected = jetstream.nextConnection();
    await consumer.start();
    await withTimeout(connected, 5_000, () => 'the Jetstream consumer to connect');
  });

  after(async () => {
    await consumer.stop();
    await pipeline.stop();
    statusSubscription.unsubscribe();
    await jetstream.close();
    await bus.close();
  });

  function nextEmit(predicate: (record: LiveMetadata) => boolean, what: string): Promise<LiveMetadata> {
    return emits.next(predicate, what, { fromIndex: emits.items.length });
  }

  /** A Twitch notification as the webhook route publishes it after verifying it. */
  async function publishTwitch(request: EventSubWebhookRequest): Promise<void> {
    await new RawEventIngest(bus, metrics).publish({
      provider: 'twitch',
      message_id: request.messageId,
      message_type: request.messageType,
      subscription_type: request.subscriptionType,
      subscription_version: request.subscriptionVersion,
      message_timestamp: request.timestamp,
      received_at: new Date().toISOString(),
      body: request.body,
    });
  }

  it('a Bluesky #live status alone does not make the channel live, but names its status as provenance', async () => {
    const provenance = nextEmit((record) => record.providers.bluesky?.post_uri === STATUS_URI, 'the provenance emit');
    jetstream.emitCommit(DID, { operation: 'create', collection: 'app.bsky.actor.status', rkey: 'self', record: liveStatus(Date.now()) });
    const record = await provenance;
    assert.equal(record.status, 'offline');
    assert.equal(record.canonical_id, null);
    assert.equal(record.title, 'Live from Bluesky', 'an unverified signal may fill an empty field');
    assert.equal((await pipeline.readRecord(CHANNEL))?.status, 'offline');
  });

  it('keeps the provenance when Twitch makes the channel live, and follows a newer post linking the stream', async () => {
    const live = nextEmit((record) => record.status === 'live', 'the live emit');
    await publishTwitch(twitch.streamOnline());
    const record = await live;
    assert.equal(record.providers.bluesky?.post_uri, STATUS_URI);
    assert.equal(record.providers.bluesky?.did, DID);

    const postUri = `at://${DID}/app.bsky.feed.post/3lpostlinking`;
    const updated = nextEmit((next) => next.providers.bluesky?.post_uri === postUri, 'the post provenance');
    jetstream.emitCommit(DID, {
      operation: 'create',
      collection: 'app.bsky.feed.post',
      rkey: '3lpostlinking',
      record: { $type: 'app.bsky.feed.post', text: 'We are live! twitch.tv/acme_live', createdAt: new Date().toISOString() },
    });
    const next = await updated;
    assert.equal(next.status, 'live');
    assert.equal(next.canonical_id, record.canonical_id, 'the same broadcast');
  });

  it('a post that links nothing of the channel changes nothing, and a Bluesky offline does not end a Twitch broadcast', async () => {
    const before = await pipeline.readRecord(CHANNEL);
    const deletionPublished = withTimeout(
      new Promise<void>((resolve) => {
        const subscription = bus.subscribe(SUBJECTS.liveRaw('bluesky'), (_subject, data) => {
          if (decodeRawEvent(data).subscription_version !== 'delete') return;
          subscription.unsubscribe();
          resolve();
        });
      }),
      10_000,
      () => 'the status deletion on live.raw.bluesky',
    );
    jetstream.emitCommit(DID, { operation: 'create', collection: 'app.bsky.feed.post', rkey: '3lunrelated', record: { $type: 'app.bsky.feed.post', text: 'coffee', createdAt: new Date().toISOString() } });
    jetstream.emitCommit(DID, { operation: 'delete', collection: 'app.bsky.actor.status', rkey: 'self' });
    // Twitch's title update after them: the pipeline handles raw events in order per stream.
    const titled = nextEmit((record) => record.title === 'Official title', 'the Twitch title update');
    await deletionPublished;
    await publishTwitch(twitch.channelUpdate({ title: 'Official title' }));
    const record = await titled;
    assert.equal(record.status, 'live');
    assert.equal(record.canonical_id, before?.canonical_id);
    assert.equal(record.providers.bluesky?.post_uri, before?.providers.bluesky?.post_uri, 'the unrelated post and the status deletion left the post provenance');
  });
});
