import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { liveMetadataSchema, parseChannelRef, type LiveMetadata } from '@live-upload/schema';
import { Arrivals } from '../../../test/support/arrivals.js';
import { STREAMS, SUBJECTS, createMemoryBus, decodeJson, type Bus, type BusMessage, type Subscription } from '../bus/index.js';
import { ChannelRegistry } from '../channels/index.js';
import { createLogger, createMetrics, type Metrics } from '../observability/index.js';
import type { ProviderEventAdapter, RawProviderEvent } from '../provider-adapter/index.js';
import { LivePipeline } from './live-pipeline.js';
import { RawEventIngest } from './raw-event-ingest.js';

const CHANNEL = 'acme/flaky-stream';
const REF = parseChannelRef(CHANNEL)!;

/** Body `{"online": bool}`: the account 4242 went live or offline. */
const adapter: ProviderEventAdapter<{ online: boolean }> = {
  provider: 'twitch',
  needsChannelConfig: false,
  read: (raw) => JSON.parse(raw.body) as { online: boolean },
  accountOf: () => '4242',
  map: (raw, payload, channel) =>
    payload.online
      ? { kind: 'online', channel, provider: 'twitch', eventId: raw.message_id, eventTimeMs: Date.parse(raw.message_timestamp), verified: true, fields: { title: 'Flaky', started_at: raw.message_timestamp } }
      : { kind: 'offline', channel, provider: 'twitch', eventId: raw.message_id, eventTimeMs: Date.parse(raw.message_timestamp), verified: true, fields: {} },
};

function raw(messageId: string, online: boolean): RawProviderEvent {
  const now = new Date().toISOString();
  return { provider: 'twitch', message_id: messageId, message_type: 'test', subscription_type: 'test', subscription_version: '1', message_timestamp: now, received_at: now, body: JSON.stringify({ online }) };
}

interface BusFaults {
  readonly bus: Bus;
  /** The next status publish matching `when` fails; resolves when it has. */
  failNext(when: (record: LiveMetadata) => boolean): Promise<void>;
  /**
   * From now on every delivery reports itself as the first, as JetStream's does after a
   * consumer's leader changed before it had replicated which messages it delivered.
   */
  forgetDeliveries(): void;
}

function asFirstDelivery(message: BusMessage): BusMessage {
  return {
    subject: message.subject,
    data: message.data,
    seq: message.seq,
    deliveryCount: 1,
    ack: () => message.ack(),
    nak: (delayMs) => message.nak(delayMs),
    working: () => message.working(),
    term: () => message.term(),
  };
}

/**
 * The real memory bus, whose next status publish matching `failWhen` fails as a JetStream
 * publish does while its stream elects a leader (the failure the fleet test met).
 */
function busFailingOneStatusPublish(inner: Bus): BusFaults {
  let armed: { when: (record: LiveMetadata) => boolean; failed: () => void } | undefined;
  let forgetful = false;
  const bus = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'consume') {
        return (options: Parameters<Bus['consume']>[0], handler: Parameters<Bus['consume']>[1]) =>
          target.consume(options, (message) =>
            handler(forgetful ? asFirstDelivery(message) : message),
          );
      }
      if (property !== 'publish') return Reflect.get(target, property, receiver) as unknown;
      return async (subject: string, data: Uint8Array, options?: Parameters<Bus['publish']>[2]) => {
        if (armed && subject === SUBJECTS.liveStatus(REF) && armed.when(decodeJson(data, liveMetadataSchema))) {
          const failed = armed.failed;
          armed = undefined;
          failed();
          throw new Error('no responders: the stream is electing its leader');
        }
        return target.publish(subject, data, options);
      };
    },
  });
  return {
    bus,
    failNext: (when) => new Promise<void>((failed) => (armed = { when, failed })),
    forgetDeliveries: () => (forgetful = true),
  };
}

describe('live pipeline: a status whose publish failed after its state write', () => {
  let inner: Bus;
  let faults: BusFaults;
  let metrics: Metrics;
  let pipeline: LivePipeline;
  let statusSubscription: Subscription;
  const emits = new Arrivals<LiveMetadata>();

  before(async () => {
    inner = createMemoryBus();
    await inner.ensureStreams(Object.values(STREAMS));
    faults = busFailingOneStatusPublish(inner);
    metrics = createMetrics();
    const channels = await ChannelRegistry.open(inner);
    await channels.upsert(REF, { title: null, providers: { twitch: { user_id: '4242', login: 'acme' } } });
    statusSubscription = inner.subscribe(SUBJECTS.liveStatus(REF), (_subject, data) => emits.push(decodeJson(data, liveMetadataSchema)));
    pipeline = await LivePipeline.open({ bus: faults.bus, channels, logger: createLogger({ level: 'silent' }), metrics, adapters: [adapter], graceWindowMs: 300, coalesceMs: 0 });
    await pipeline.start();
  });

  after(async () => {
    await pipeline.stop();
    statusSubscription.unsubscribe();
    await inner.close();
  });

  it('is published when the grace-window timer comes back, though the timer is then a no-op', async () => {
    const ingest = new RawEventIngest(inner, metrics);
    const live = emits.next((record) => record.status === 'live', 'the live status');
    await ingest.publish(raw('online-1', true));
    const canonicalId = (await live).canonical_id;

    // The grace window ends in a timer; its state write commits OFFLINE, then the publish fails.
    const failed = faults.failNext((record) => record.status === 'offline');
    const offline = emits.next((record) => record.status === 'offline', 'the offline status, published on the redelivery', { timeoutMs: 10_000 });
    await ingest.publish(raw('offline-1', false));
    await failed;
    const published = await offline;
    assert.equal(published.canonical_id, canonicalId, 'the status of the broadcast that ended');
  });

  it('is published when the event comes back as a first delivery (a consumer whose leader changed)', async () => {
    faults.forgetDeliveries();
    const ingest = new RawEventIngest(inner, metrics);
    const fromIndex = emits.items.length;
    const failed = faults.failNext((record) => record.status === 'live');
    const live = emits.next((record) => record.status === 'live', 'the live status, published on the redelivery', { fromIndex, timeoutMs: 10_000 });
    await ingest.publish(raw('online-2', true));
    await failed;
    const published = await live;
    assert.equal(emits.items.filter((record) => record.seq === published.seq).length, 1, 'published once');
  });
});
