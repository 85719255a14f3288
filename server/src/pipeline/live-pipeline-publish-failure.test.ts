import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { liveMetadataSchema, parseChannelRef, type LiveMetadata } from '@live-upload/schema';
import { Arrivals } from '../../../test/support/arrivals.js';
import { eventually } from '../../../test/support/eventually.js';
import { BusUnavailableError, redeliveryDelayMs, STREAMS, SUBJECTS, createMemoryBus, decodeJson, type Bus, type BusMessage, type Subscription } from '../bus/index.js';
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

/** How a status publish fails. */
type PublishFailure = 'refused' | 'unavailable';

/** What became of each raw event's deliveries: `nak` and `ack` calls, by message id of the raw event. */
type Settlements = Map<string, Array<{ readonly deliveryCount: number; readonly outcome: 'ack' | 'nak' | 'term' }>>;

interface BusFaults {
  readonly bus: Bus;
  /**
   * The next `times` status publishes matching `when` fail (default once), `refused` (an error
   * the bus does not call unavailability) or `unavailable` (`BusUnavailableError`: a JetStream
   * publish while the client reconnects or the stream elects its leader); resolves when the
   * last of them has.
   */
  failNext(when: (record: LiveMetadata) => boolean, options?: { readonly times?: number; readonly as?: PublishFailure }): Promise<void>;
  /** How each raw event's deliveries were settled. */
  readonly settlements: Settlements;
  /**
   * From now on every delivery reports itself as the first, as JetStream's does after a
   * consumer's leader changed before it had replicated which messages it delivered.
   */
  forgetDeliveries(): void;
}

/** `message`, with its (first) settlement recorded in `settlements` under the raw event's message id. */
function recorded(message: BusMessage, settlements: Settlements): BusMessage {
  const id = (JSON.parse(new TextDecoder().decode(message.data).split('\n', 1)[0]!) as { message_id: string }).message_id;
  let settled = false;
  const record = (outcome: 'ack' | 'nak' | 'term') => {
    if (settled) return;
    settled = true;
    const list = settlements.get(id) ?? [];
    list.push({ deliveryCount: message.deliveryCount, outcome });
    settlements.set(id, list);
  };
  return {
    subject: message.subject,
    data: message.data,
    seq: message.seq,
    deliveryCount: message.deliveryCount,
    ack: () => {
      record('ack');
      message.ack();
    },
    nak: (delayMs) => {
      record('nak');
      message.nak(delayMs);
    },
    working: () => message.working(),
    term: () => {
      record('term');
      message.term();
    },
  };
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
  let armed: { when: (record: LiveMetadata) => boolean; left: number; as: PublishFailure; failed: () => void } | undefined;
  let forgetful = false;
  const settlements: Settlements = new Map();
  const bus = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'consume') {
        return (options: Parameters<Bus['consume']>[0], handler: Parameters<Bus['consume']>[1]) =>
          target.consume(options, async (message) => {
            const delivered = forgetful ? asFirstDelivery(message) : message;
            if (options.stream !== STREAMS.liveRaw.name) return handler(delivered);
            const watched = recorded(delivered, settlements);
            try {
              await handler(watched);
            } catch (error) {
              watched.nak(redeliveryDelayMs(watched.deliveryCount));
              throw error;
            }
            // What the bus does with a delivery its handler resolved and did not settle itself.
            watched.ack();
          });
      }
      if (property !== 'publish') return Reflect.get(target, property, receiver) as unknown;
      return async (subject: string, data: Uint8Array, options?: Parameters<Bus['publish']>[2]) => {
        if (armed && subject === SUBJECTS.liveStatus(REF) && armed.when(decodeJson(data, liveMetadataSchema))) {
          const failure = armed.as;
          if (--armed.left === 0) {
            armed.failed();
            armed = undefined;
          }
          if (failure === 'unavailable') throw new BusUnavailableError(`publish to ${subject} failed: no JetStream ack within 2500 ms`);
          throw new Error('JetStream refused the publish');
        }
        return target.publish(subject, data, options);
      };
    },
  });
  return {
    bus,
    failNext: (when, { times = 1, as = 'refused' } = {}) => new Promise<void>((failed) => (armed = { when, left: times, as, failed })),
    settlements,
    forgetDeliveries: () => (forgetful = true),
  };
}

/** The pipeline on a memory bus whose status publishes the test makes fail (`faults`), for one describe block. */
interface FaultyPipeline {
  inner: Bus;
  faults: BusFaults;
  metrics: Metrics;
  readonly emits: Arrivals<LiveMetadata>;
}

/** Registers the block's before/after: a memory bus, the channel linked to Twitch user 4242, the pipeline started on the faulty bus. */
function faultyPipeline(graceWindowMs: number): FaultyPipeline {
  const context = { emits: new Arrivals<LiveMetadata>() } as FaultyPipeline;
  let pipeline: LivePipeline;
  let statusSubscription: Subscription;
  before(async () => {
    context.inner = createMemoryBus();
    await context.inner.ensureStreams(Object.values(STREAMS));
    context.faults = busFailingOneStatusPublish(context.inner);
    context.metrics = createMetrics();
    const channels = await ChannelRegistry.open(context.inner);
    await channels.upsert(REF, { title: null, providers: { twitch: { user_id: '4242', login: 'acme' } } });
    statusSubscription = context.inner.subscribe(SUBJECTS.liveStatus(REF), (_subject, data) => context.emits.push(decodeJson(data, liveMetadataSchema)));
    pipeline = await LivePipeline.open({ bus: context.faults.bus, channels, logger: createLogger({ level: 'silent' }), metrics: context.metrics, adapters: [adapter], graceWindowMs, coalesceMs: 0 });
    await pipeline.start();
  });
  after(async () => {
    await pipeline.stop();
    statusSubscription.unsubscribe();
    await context.inner.close();
  });
  return context;
}

describe('live pipeline: a status whose publish failed after its state write', () => {
  const context = faultyPipeline(300);
  const { emits } = context;

  it('is published when the grace-window timer comes back, though the timer is then a no-op', async () => {
    const ingest = new RawEventIngest(context.inner, context.metrics);
    const live = emits.next((record) => record.status === 'live', 'the live status');
    await ingest.publish(raw('online-1', true));
    const canonicalId = (await live).canonical_id;

    // The grace window ends in a timer; its state write commits OFFLINE, then the publish fails.
    const failed = context.faults.failNext((record) => record.status === 'offline');
    const offline = emits.next((record) => record.status === 'offline', 'the offline status, published on the redelivery', { timeoutMs: 10_000 });
    await ingest.publish(raw('offline-1', false));
    await failed;
    const published = await offline;
    assert.equal(published.canonical_id, canonicalId, 'the status of the broadcast that ended');
  });

  it('is published when the event comes back as a first delivery (a consumer whose leader changed)', async () => {
    context.faults.forgetDeliveries();
    const ingest = new RawEventIngest(context.inner, context.metrics);
    const fromIndex = emits.items.length;
    const failed = context.faults.failNext((record) => record.status === 'live');
    const live = emits.next((record) => record.status === 'live', 'the live status, published on the redelivery', { fromIndex, timeoutMs: 10_000 });
    await ingest.publish(raw('online-2', true));
    await failed;
    const published = await live;
    assert.equal(emits.items.filter((record) => record.seq === published.seq).length, 1, 'published once');
  });
});

describe('live pipeline: a status publish that fails while the bus is unavailable, after its state write', () => {
  const context = faultyPipeline(0);
  const { emits } = context;

  // The channel's state says LIVE from the state write on: a status that waits for the event's
  // redelivery is missing from LIVE_STATUS (SSE, webhooks) meanwhile, and under a JetStream node's
  // death that wait was 10-15 s (the nak lost with the connection, the consumer's new leader).
  it('goes out from the delivery that stored it once the bus is back: the event is not nak\'ed', async () => {
    const ingest = new RawEventIngest(context.inner, context.metrics);
    const failed = context.faults.failNext((record) => record.status === 'live', { times: 2, as: 'unavailable' });
    const live = emits.next((record) => record.status === 'live', 'the live status', { timeoutMs: 10_000 });
    await ingest.publish(raw('online-unavailable-1', true));
    await failed;
    const published = await live;
    await eventually(() => context.faults.settlements.has('online-unavailable-1'), 'the event settled');
    assert.deepEqual(context.faults.settlements.get('online-unavailable-1'), [{ deliveryCount: 1, outcome: 'ack' }], 'acked on its first delivery, never nak\'ed');
    assert.equal(emits.items.filter((record) => record.seq === published.seq).length, 1, 'published once');
  });

  it('is left to the redelivery when the bus stays unavailable longer than the retries', async () => {
    const ingest = new RawEventIngest(context.inner, context.metrics);
    const fromIndex = emits.items.length;
    const failed = context.faults.failNext((record) => record.status === 'offline', { times: 8, as: 'unavailable' });
    const offline = emits.next((record) => record.status === 'offline', 'the offline status, published on a redelivery', { fromIndex, timeoutMs: 20_000 });
    await ingest.publish(raw('offline-unavailable-1', false));
    await failed;
    await offline;
    await eventually(() => (context.faults.settlements.get('offline-unavailable-1')?.length ?? 0) >= 2, 'the redelivery settled');
    assert.deepEqual(
      context.faults.settlements.get('offline-unavailable-1'),
      [
        { deliveryCount: 1, outcome: 'nak' },
        { deliveryCount: 2, outcome: 'ack' },
      ],
      'the first delivery gave up and nak\'ed; the second published and acked',
    );
  });
});
