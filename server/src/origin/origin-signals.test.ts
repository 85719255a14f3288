import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { liveMetadataSchema, parseChannelRef, type LiveMetadata } from '@live-upload/schema';
import { ulid } from 'ulid';
import { Arrivals } from '../../../test/support/arrivals.js';
import { STREAMS, SUBJECTS, createMemoryBus, decodeJson, type Bus, type Subscription } from '../bus/index.js';
import { decodeRawEvent } from '../provider-adapter/index.js';
import { eventually } from '../../../test/support/eventually.js';
import { ChannelRegistry } from '../channels/index.js';
import { createLogger, createMetrics, type Metrics } from '../observability/index.js';
import { LivePipeline, RawEventIngest } from '../pipeline/index.js';
import { providerEventAdapters } from '../providers/index.js';
import { originPlaylistPath, type OriginSession } from './origin-session.js';
import { OriginSignalPublisher } from './origin-signals.js';

const CHANNEL = 'acme/studio';
const REF = parseChannelRef(CHANNEL)!;
const PUBLIC_URL = 'http://127.0.0.1:8123';
const CONFIGURED_PLAYER = 'https://cdn.example/acme/studio.m3u8';
const GRACE_MS = 300;

function session(channel: string, overrides: Partial<OriginSession> = {}): OriginSession {
  const sessionId = ulid();
  const now = new Date().toISOString();
  return {
    session_id: sessionId,
    channel,
    replica: 'test-replica',
    state: 'live',
    grant_id: 'grant-1',
    created_at: now,
    live_at: now,
    playlist_path: originPlaylistPath(channel, sessionId),
    heartbeat_at: now,
    ...overrides,
  };
}

describe('origin signals: a WHIP broadcast goes through the pipeline like a provider', () => {
  let bus: Bus;
  let metrics: Metrics;
  let pipeline: LivePipeline;
  let signals: OriginSignalPublisher;
  let statusSubscription: Subscription;
  const emits = new Arrivals<LiveMetadata>();
  const raws = new Arrivals<string>();
  let rawSubscription: Subscription;

  before(async () => {
    bus = createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    metrics = createMetrics();
    const channels = await ChannelRegistry.open(bus);
    // A channel with no provider link at all, and a player of its own for when it is not on our origin.
    await channels.upsert(REF, { title: 'Studio', providers: {}, playback: { hls: CONFIGURED_PLAYER } });
    statusSubscription = bus.subscribe(SUBJECTS.liveStatus(REF), (_subject, data) => emits.push(decodeJson(data, liveMetadataSchema)));
    rawSubscription = bus.subscribe(SUBJECTS.liveRaw('origin'), (_subject, data) => raws.push(decodeRawEvent(data).message_id));
    pipeline = await LivePipeline.open({
      bus,
      channels,
      logger: createLogger({ level: 'silent' }),
      metrics,
      adapters: providerEventAdapters(() => `${PUBLIC_URL}/`),
      graceWindowMs: GRACE_MS,
      coalesceMs: 0,
    });
    await pipeline.start();
    signals = new OriginSignalPublisher(new RawEventIngest(bus, metrics));
  });

  after(async () => {
    await pipeline.stop();
    statusSubscription.unsubscribe();
    rawSubscription.unsubscribe();
    await bus.close();
  });

  it('goes LIVE with provenance origin and our playlist as the player, then OFFLINE after the grace window with the configured player back', async () => {
    const broadcast = session(CHANNEL);
    const live = emits.next((record) => record.status === 'live', 'the live emit');
    await signals.online(broadcast);
    const record = await live;
    assert.equal(record.sources['status']?.provider, 'origin');
    assert.equal(record.sources['playback']?.provider, 'origin');
    assert.equal(record.playback?.hls, `${PUBLIC_URL}/origin/${CHANNEL}/${broadcast.session_id}/master.m3u8`);
    assert.equal(record.started_at, broadcast.live_at);
    assert.deepEqual(record.providers, {}, 'no link record was made for the origin');

    const fromIndex = emits.items.length;
    const endedAt = new Date().toISOString();
    const heldAt = Date.now();
    const offline = emits.next((emitted) => emitted.status === 'offline', 'the offline emit', { fromIndex });
    await signals.offline({ ...broadcast, state: 'ended', ended_at: endedAt, ended_reason: 'deleted' });
    const ended = await offline;
    assert.ok(Date.now() - heldAt >= GRACE_MS - 50, `offline waited out the grace window (${Date.now() - heldAt} ms)`);
    assert.equal(ended.ended_at, endedAt);
    assert.equal(ended.sources['status']?.provider, 'origin');
    assert.equal(ended.playback?.hls, CONFIGURED_PLAYER, 'the configured player is back once the broadcast ended');
    assert.equal(ended.sources['playback'], undefined);
  });

  it('publishes each signal once per session: a repeat is a duplicate on the bus', async () => {
    const broadcast = session(CHANNEL);
    const fromIndex = raws.items.length;
    await signals.online(broadcast);
    await signals.online(broadcast);
    await raws.next((id) => id === `${broadcast.session_id}:online`, 'the raw online', { fromIndex });
    const duplicate = await new RawEventIngest(bus, metrics).publish({
      provider: 'origin',
      message_id: `${broadcast.session_id}:online`,
      message_type: 'notification',
      subscription_type: 'stream.online',
      subscription_version: '1',
      message_timestamp: broadcast.live_at!,
      received_at: broadcast.live_at!,
      body: JSON.stringify(broadcast),
    });
    assert.equal(duplicate.duplicate, true, 'msg id origin:{session_id}:online');
    await signals.offline({ ...broadcast, state: 'ended', ended_at: new Date().toISOString() });
  });

  it('ignores a session of a channel that is not configured, and a body that is no session', async () => {
    const ingest = new RawEventIngest(bus, metrics);
    await signals.online(session('nobody/here'));
    const now = new Date().toISOString();
    await ingest.publish({ provider: 'origin', message_id: 'junk', message_type: 'notification', subscription_type: 'stream.online', subscription_version: '1', message_timestamp: now, received_at: now, body: '{"channel":"acme/studio"}' });
    const ignored = async () => {
      const sample = (await metrics.pipelineEvents.get()).values.find((value) => value.labels['provider'] === 'origin' && value.labels['outcome'] === 'ignored');
      return sample?.value ?? 0;
    };
    await eventually(async () => (await ignored()) >= 2, 'both events counted as ignored');
  });
});
