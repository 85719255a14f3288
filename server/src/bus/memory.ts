import {
  BusUnavailableError,
  subjectMatches,
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
import { copyBytes } from './copy-bytes.js';
import { DurableState } from './memory-durable.js';
import { MemoryKv } from './memory-kv.js';
import { MemoryStream, type StoredMessage } from './memory-stream.js';

/** Distinct subjects whose stream is remembered; past this the memo starts over (subjects carry channel names). */
const SUBJECT_CACHE_MAX = 10_000;

/**
 * Messages a stream keeps by default once every durable consumer is done with them. RAM holds
 * them, not disk, and nothing survives the process: a week of raw events (`LIVE_RAW`'s max
 * age) would be unbounded memory, and every retained message is work for each garbage
 * collection (what that cost under load: `bench/README.md`, ingest).
 */
const MEMORY_STREAM_MAX_MESSAGES = 10_000;

export interface MemoryBusOptions {
  readonly now?: () => number;
  /**
   * A `limits` stream keeps at most this many messages, oldest dropped first, but never one a
   * durable consumer has yet to deliver or settle: a consumer that lags holds its backlog,
   * whatever the count. The streams' max age applies as well. A work queue is not capped: its
   * messages leave when they are acked.
   */
  readonly maxMessagesPerStream?: number;
}

/**
 * The single-process bus: the default, so `npm start` needs nothing but Node. It keeps the
 * JetStream semantics the rest of the server relies on (msg-id dedupe window, durable
 * consumers with ack / nak(delay) / ack-wait redelivery / max-ack-pending, work-queue
 * retention, KV with revisions and compare-and-set) and is held to the same contract suite
 * as `nats.ts`. Nothing survives the process, and what a stream keeps for reading back is
 * bounded (`maxMessagesPerStream`).
 */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const now = options.now ?? Date.now;
  const maxMessagesPerStream = options.maxMessagesPerStream ?? MEMORY_STREAM_MAX_MESSAGES;
  if (!Number.isInteger(maxMessagesPerStream) || maxMessagesPerStream < 1) throw new RangeError('maxMessagesPerStream must be a positive integer');
  const streams = new Map<string, MemoryStream>();
  const durables = new Map<string, DurableState>();
  const subscriptions = new Set<{ pattern: string; handler: (subject: string, data: Uint8Array) => void }>();
  const buckets = new Map<string, MemoryKv>();
  let closed = false;

  /** Which stream captures a subject, remembered per subject until the streams change (a publish asks every time). */
  const streamOfSubject = new Map<string, MemoryStream | undefined>();
  function streamFor(subject: string): MemoryStream | undefined {
    if (streamOfSubject.has(subject)) return streamOfSubject.get(subject);
    let found: MemoryStream | undefined;
    for (const stream of streams.values()) {
      if (stream.config.subjects.some((pattern) => subjectMatches(pattern, subject))) {
        found = stream;
        break;
      }
    }
    if (streamOfSubject.size >= SUBJECT_CACHE_MAX) streamOfSubject.clear();
    streamOfSubject.set(subject, found);
    return found;
  }

  /** Whether a durable consumer of `stream` has yet to deliver or settle `message`. */
  function stillNeeded(stream: MemoryStream, message: StoredMessage): boolean {
    for (const durable of durables.values()) if (durable.stream === stream && durable.needs(message)) return true;
    return false;
  }

  function assertOpen(): void {
    if (closed) throw new BusUnavailableError('memory bus is closed');
  }

  const bus: Bus = {
    kind: 'memory',

    async ensureStreams(configs: readonly StreamConfig[]): Promise<void> {
      assertOpen();
      streamOfSubject.clear();
      for (const config of configs) {
        const existing = streams.get(config.name);
        if (existing) existing.config = config;
        else {
          const stream: MemoryStream = new MemoryStream(config, now, maxMessagesPerStream, (message) => stillNeeded(stream, message));
          streams.set(config.name, stream);
        }
      }
    },

    async publish(subject: string, data: Uint8Array, publishOptions: PublishOptions = {}): Promise<PublishAck> {
      assertOpen();
      const stream = streamFor(subject);
      if (!stream) throw new BusUnavailableError(`no stream captures subject ${subject}`);
      const result = stream.append(subject, data, publishOptions.msgId);
      if (!result.duplicate) {
        for (const durable of durables.values()) if (durable.stream === stream) durable.pump();
        for (const subscription of subscriptions) {
          if (subjectMatches(subscription.pattern, subject)) {
            const copy = copyBytes(data);
            queueMicrotask(() => subscription.handler(subject, copy));
          }
        }
      }
      return { stream: stream.config.name, seq: result.seq, duplicate: result.duplicate };
    },

    async consume(consumerOptions: ConsumerOptions, handler: MessageHandler): Promise<Consumer> {
      assertOpen();
      const stream = streams.get(consumerOptions.stream);
      if (!stream) throw new BusUnavailableError(`no stream named ${consumerOptions.stream}`);
      const key = `${consumerOptions.stream}/${consumerOptions.durable}`;
      let durable = durables.get(key);
      if (!durable) {
        durable = new DurableState(stream, consumerOptions, now);
        durables.set(key, durable);
      } else {
        durable.configure(consumerOptions);
      }
      return durable.attach(handler);
    },

    async readLatest(streamName: string, readOptions: ReadLatestOptions): Promise<StoredBusMessage[]> {
      assertOpen();
      const stream = streams.get(streamName);
      if (!stream) throw new BusUnavailableError(`no stream named ${streamName}`);
      return stream.latest(readOptions.limit, readOptions.beforeSeq);
    },

    subscribe(subjectPattern: string, handler: (subject: string, data: Uint8Array) => void): Subscription {
      const subscription = { pattern: subjectPattern, handler };
      subscriptions.add(subscription);
      return { unsubscribe: () => subscriptions.delete(subscription) };
    },

    async kv(bucket: string, bucketOptions: KvBucketOptions = {}): Promise<KvBucket> {
      assertOpen();
      let kv = buckets.get(bucket);
      if (!kv) {
        kv = new MemoryKv(bucket, bucketOptions.ttlMs ?? 0, now);
        buckets.set(bucket, kv);
      }
      return kv;
    },

    isReady: () => !closed,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all([...durables.values()].map((durable) => durable.stopAll()));
      subscriptions.clear();
      for (const kv of buckets.values()) kv.closeWatches();
    },
  };
  return bus;
}
