import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { liveMetadataSchema, parseChannelRef, type LiveMetadata } from '@live-upload/schema';
import { Arrivals } from '../../../test/support/arrivals.js';
import { STREAMS, SUBJECTS, createMemoryBus, decodeJson, type Bus, type Subscription } from '../bus/index.js';
import { ChannelRegistry } from '../channels/index.js';
import { createLogger, createMetrics, type Metrics } from '../observability/index.js';
import type { ProviderEventAdapter, RawProviderEvent } from '../provider-adapter/index.js';
import { LivePipeline } from './live-pipeline.js';
import { RawEventIngest } from './raw-event-ingest.js';

const CHANNEL = 'acme/seam';
const REF = parseChannelRef(CHANNEL)!;

/** An adapter written against the seam alone: a body `{"account","title"}` says the account went live. */
const plainAdapter: ProviderEventAdapter<{ account?: string; title: string }> = {
  provider: 'twitch',
  needsChannelConfig: false,
  read: (raw) => JSON.parse(raw.body) as { account?: string; title: string },
  accountOf: (payload) => payload.account,
  map: (raw, payload, channel) => ({
    kind: 'online',
    channel,
    provider: 'twitch',
    eventId: raw.message_id,
    eventTimeMs: Date.parse(raw.message_timestamp),
    verified: true,
    fields: { title: payload.title, started_at: raw.message_timestamp },
  }),
};

function raw(provider: RawProviderEvent['provider'], messageId: string, body: string): RawProviderEvent {
  const now = new Date().toISOString();
  return { provider, message_id: messageId, message_type: 'test', subscription_type: 'test', subscription_version: '1', message_timestamp: now, received_at: now, body };
}

describe('live pipeline: providers come in through the adapters it is given', () => {
  let bus: Bus;
  let metrics: Metrics;
  let channels: ChannelRegistry;
  let pipeline: LivePipeline;
  let statusSubscription: Subscription;
  const emits = new Arrivals<LiveMetadata>();

  before(async () => {
    bus = createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    metrics = createMetrics();
    channels = await ChannelRegistry.open(bus);
    await channels.upsert(REF, { title: null, providers: { twitch: { user_id: '4242', login: 'acme' }, youtube: { channel_id: 'UCabcdefghijklmnopqrstuv' } } });
    statusSubscription = bus.subscribe(SUBJECTS.liveStatus(REF), (_subject, data) => emits.push(decodeJson(data, liveMetadataSchema)));
    pipeline = await LivePipeline.open({ bus, channels, logger: createLogger({ level: 'silent' }), metrics, adapters: [plainAdapter], graceWindowMs: 200, coalesceMs: 0 });
    await pipeline.start();
  });

  after(async () => {
    await pipeline.stop();
    statusSubscription.unsubscribe();
    await bus.close();
  });

  it('maps a raw event with its provider adapter, and ignores one of a provider without an adapter', async () => {
    const ingest = new RawEventIngest(bus, metrics);
    const live = emits.next((record) => record.status === 'live', 'the live emit');
    await ingest.publish(raw('youtube', 'no-adapter-1', '{"account":"UCabcdefghijklmnopqrstuv","title":"not read"}'));
    await ingest.publish(raw('twitch', 'seam-1', '{"account":"4242","title":"Through the seam"}'));
    assert.equal((await live).title, 'Through the seam');
    const samples = (await metrics.pipelineEvents.get()).values.map((sample) => `${sample.labels['provider']} ${sample.labels['outcome']} ${sample.value}`);
    assert.deepEqual(samples.sort(), ['twitch applied 1', 'youtube ignored 1']);
  });

  it('refuses two adapters for one provider', async () => {
    await assert.rejects(
      LivePipeline.open({ bus, channels, logger: createLogger({ level: 'silent' }), metrics, adapters: [plainAdapter, plainAdapter], graceWindowMs: 200, coalesceMs: 0 }),
      /two event adapters for provider twitch/,
    );
  });
});
