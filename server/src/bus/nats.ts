import { DebugEvents, Events, connect, type ConsumerInfo, type NatsConnection, type Subscription as NatsSubscription } from 'nats';
import {
  BusUnavailableError,
  type Bus,
  type Consumer,
  type ConsumerOptions,
  type KvBucket,
  type KvBucketOptions,
  type MessageHandler,
  type PublishAck,
  type PublishOptions,
  type ReadLatestOptions,
  type StoredBusMessage,
  type StreamConfig,
  type Subscription,
} from './bus.js';
import { silentBusLogger, type BusLogger } from './bus-logger.js';
import { JetStreamConsumer, ensureJetStreamConsumer } from './nats-consumer.js';
import { JetStreamPublisher } from './nats-publisher.js';
import { JETSTREAM_ERROR_CODES, describeError, jetStreamErrorCode } from './nats-errors.js';
import { openJetStreamKv } from './nats-kv.js';
import { ensureJetStreams } from './nats-streams.js';
import { BusReplicasError, assertJetStreamReplicas, assertReplicaCount } from './nats-replicas.js';

/** How long a publish waits for its JetStream ack before the caller gets `BusUnavailableError`. */
const PUBLISH_TIMEOUT_MS = 2_500;

/** Pause between reconnect attempts; the client retries forever. */
const RECONNECT_WAIT_MS = 1_000;

/** `readLatest` skips at most this many removed sequences per page. */
const MAX_READ_GAP_PROBES = 1_000;

/** `close()` gives draining this long before it closes the connection outright. */
const DRAIN_TIMEOUT_MS = 5_000;

/** Options of `createNatsBus`. */
export interface NatsBusOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222`; comma-separated for a cluster. */
  readonly url: string;
  /** Connection name shown by the server (`nats-server` monitoring, logs). */
  readonly name?: string;
  readonly logger?: BusLogger;
  /**
   * Copies JetStream keeps of every stream and KV bucket (1 to 5; default 1): 1 on a single
   * server, 3 on a three-node cluster so that losing a node loses nothing. Checked against the
   * server at connect (`BusReplicasError` when it cannot be met); existing streams and buckets
   * with another count are re-replicated.
   */
  readonly replicas?: number;
}

/**
 * The bus on NATS JetStream: streams and durable pull consumers for work, JetStream KV for
 * state, core subscriptions for fan-out. Connects once and reconnects forever; while it is
 * reconnecting `isReady()` is false and publishes fail fast with `BusUnavailableError`.
 */
export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const logger = options.logger ?? silentBusLogger;
  const replicas = options.replicas ?? 1;
  assertReplicaCount(replicas);
  const where = redactUrl(options.url);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url.split(',').map((server) => server.trim()),
      ...(options.name === undefined ? {} : { name: options.name }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      pingInterval: 20_000,
      maxPingOut: 3,
      // Otherwise every request (each publish ack, each KV op) builds two Errors with stack
      // traces up front, in case it times out: a sixth of the ingest path's CPU. Our errors say
      // what timed out (BusUnavailableError with the operation), so the traces add nothing.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new BusUnavailableError(`cannot connect to NATS at ${where}: ${describeError(err)}`, { cause: err });
  }
  const js = nc.jetstream();
  let jsm: Awaited<ReturnType<NatsConnection['jetstreamManager']>>;
  try {
    jsm = await nc.jetstreamManager();
  } catch (err) {
    await nc.close();
    throw new BusUnavailableError(`JetStream is not available at ${where}: ${describeError(err)}`, { cause: err });
  }
  try {
    await assertJetStreamReplicas(jsm, nc.info ?? {}, replicas, where);
  } catch (err) {
    await nc.close();
    if (err instanceof BusReplicasError) throw err;
    throw new BusUnavailableError(`cannot check ${replicas} JetStream replicas at ${where}: ${describeError(err)}`, { cause: err });
  }

  let reconnecting = false;
  void (async () => {
    for await (const status of nc.status()) {
      switch (status.type) {
        case Events.Disconnect:
          reconnecting = true;
          logger.warn({ server: where }, 'NATS disconnected; reconnecting');
          break;
        case DebugEvents.Reconnecting:
          reconnecting = true;
          break;
        case Events.Reconnect:
          reconnecting = false;
          logger.info({ server: where }, 'NATS reconnected');
          break;
        default:
          break;
      }
    }
  })();

  const publisher = new JetStreamPublisher(nc, PUBLISH_TIMEOUT_MS);
  const consumers = new Set<JetStreamConsumer>();
  const buckets = new Map<string, Promise<KvBucket>>();
  const consumerContext = { js, jsm, logger, isClosed: () => nc.isClosed() };
  let closing: Promise<void> | undefined;

  const isReady = (): boolean => !nc.isClosed() && !nc.isDraining() && !reconnecting;

  const bus: Bus = {
    kind: 'nats',

    async ensureStreams(streams: readonly StreamConfig[]): Promise<void> {
      await ensureJetStreams(jsm, streams, replicas, logger);
    },

    async publish(subject: string, data: Uint8Array, publishOptions: PublishOptions = {}): Promise<PublishAck> {
      if (!isReady()) throw new BusUnavailableError(`NATS at ${where} is not connected; cannot publish to ${subject}`);
      try {
        return await publisher.publish(subject, data, publishOptions);
      } catch (err) {
        throw new BusUnavailableError(`publish to ${subject} failed: ${describeError(err)}`, { cause: err });
      }
    },

    async consume(consumerOptions: ConsumerOptions, handler: MessageHandler): Promise<Consumer> {
      if (closing) throw new BusUnavailableError('NATS bus is closed');
      let info: ConsumerInfo;
      try {
        info = await ensureJetStreamConsumer(jsm, consumerOptions);
      } catch (err) {
        throw new BusUnavailableError(
          `cannot create consumer ${consumerOptions.durable} on stream ${consumerOptions.stream}: ${describeError(err)}`,
          { cause: err },
        );
      }
      const consumer = new JetStreamConsumer(consumerContext, consumerOptions, handler);
      consumers.add(consumer);
      consumer.start(info);
      return {
        stop: async () => {
          await consumer.stop();
          consumers.delete(consumer);
        },
      };
    },

    async readLatest(stream: string, readOptions: ReadLatestOptions): Promise<StoredBusMessage[]> {
      try {
        const { first_seq: firstSeq, last_seq: lastSeq } = (await jsm.streams.info(stream)).state;
        const found: StoredBusMessage[] = [];
        // One direct get per sequence, newest first; gaps (removed messages) cost a probe each, bounded.
        let probes = readOptions.limit + MAX_READ_GAP_PROBES;
        for (let seq = Math.min(lastSeq, (readOptions.beforeSeq ?? Number.POSITIVE_INFINITY) - 1); seq >= Math.max(1, firstSeq) && found.length < readOptions.limit && probes > 0; seq--, probes--) {
          try {
            const message = await jsm.streams.getMessage(stream, { seq });
            found.push({ subject: message.subject, data: message.data, seq: message.seq });
          } catch (err) {
            if (jetStreamErrorCode(err) !== JETSTREAM_ERROR_CODES.noMessageFound) throw err;
          }
        }
        return found;
      } catch (err) {
        throw new BusUnavailableError(`cannot read stream ${stream}: ${describeError(err)}`, { cause: err });
      }
    },

    subscribe(subjectPattern: string, handler: (subject: string, data: Uint8Array) => void): Subscription {
      let subscription: NatsSubscription;
      try {
        subscription = nc.subscribe(subjectPattern, {
          callback: (err, message) => {
            if (err) {
              logger.warn({ subject: subjectPattern, err: describeError(err) }, 'bus subscription failed');
              return;
            }
            try {
              handler(message.subject, message.data);
            } catch (handlerErr) {
              logger.warn({ subject: message.subject, err: describeError(handlerErr) }, 'bus subscriber threw');
            }
          },
        });
      } catch (err) {
        throw new BusUnavailableError(`cannot subscribe to ${subjectPattern}: ${describeError(err)}`, { cause: err });
      }
      return {
        unsubscribe: () => {
          if (!subscription.isClosed()) subscription.unsubscribe();
        },
      };
    },

    kv(bucket: string, bucketOptions: KvBucketOptions = {}): Promise<KvBucket> {
      let opened = buckets.get(bucket);
      if (!opened) {
        opened = openJetStreamKv({ js, jsm, publisher, logger, replicas }, bucket, bucketOptions).catch((err: unknown) => {
          buckets.delete(bucket);
          throw new BusUnavailableError(`cannot open kv bucket ${bucket}: ${describeError(err)}`, { cause: err });
        });
        buckets.set(bucket, opened);
      }
      return opened;
    },

    isReady,

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.allSettled([...consumers].map((consumer) => consumer.stop()));
        consumers.clear();
        if (nc.isClosed()) {
          publisher.close();
          return;
        }
        const drained = nc.drain().catch((err: unknown) => {
          logger.warn({ err: describeError(err) }, 'NATS drain failed');
        });
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), DRAIN_TIMEOUT_MS);
        });
        const outcome = await Promise.race([drained, timedOut]);
        clearTimeout(timer);
        if (outcome === 'timeout') logger.warn({ server: where }, 'NATS drain timed out; closing');
        // A drain that failed or timed out (the server is gone) leaves the client reconnecting
        // forever: close it for good.
        if (!nc.isClosed()) await nc.close();
        publisher.close();
      })();
      return closing;
    },
  };
  return bus;
}

/** The URL without credentials, for logs and error messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, '//***@');
}
