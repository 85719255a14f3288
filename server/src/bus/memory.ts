import {
  BusUnavailableError,
  KvConflictError,
  redeliveryDelayMs,
  subjectMatches,
  type Bus,
  type BusMessage,
  type Consumer,
  type ConsumerOptions,
  type KvBucket,
  type KvBucketOptions,
  type KvEntry,
  type KvWatchEvent,
  type MessageHandler,
  type PublishAck,
  type PublishOptions,
  type ReadLatestOptions,
  type StoredBusMessage,
  type StreamConfig,
  type Subscription,
} from './bus.js';
import { assertKvKey } from './kv-key.js';
import { ByteArena } from './byte-arena.js';
import { TimedQueue } from './timed-queue.js';

/** Distinct subjects whose stream is remembered; past this the memo starts over (subjects carry channel names). */
const SUBJECT_CACHE_MAX = 10_000;

/**
 * Messages a stream keeps by default once every durable consumer is done with them. RAM holds
 * them, not disk, and nothing survives the process: a week of raw events (`LIVE_RAW`'s max
 * age) would be unbounded memory, and every retained message is work for each garbage
 * collection (a sixth of the webhook's throughput under `bench/ingest`, 100,000 messages in).
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

interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly storedAtMs: number;
}

class MemoryStream {
  private readonly messages = new Map<number, StoredMessage>();
  /** Msg ids inside the duplicate window and the sequence each was stored at; `expire` keeps out the rest. */
  private readonly recentIds = new Map<string, number>();
  /** The same ids, oldest first, with when each was stored. */
  private readonly recentIdTimes = new TimedQueue<string>();
  /** Where the stored copies live (see `copyBytes`). */
  private readonly arena = new ByteArena();
  private lastSeq = 0;
  /**
   * Every sequence below this one is gone. Removal walks sequences from here, never a fresh
   * iteration of `messages`: a Map iterator steps over every deleted slot not yet compacted,
   * thousands once the stream drops its oldest messages on every append.
   */
  private firstSeq = 1;

  constructor(
    public config: StreamConfig,
    private readonly now: () => number,
    private readonly maxMessages: number,
    private readonly stillNeeded: (message: StoredMessage) => boolean,
  ) {}

  append(subject: string, data: Uint8Array, msgId: string | undefined): { seq: number; duplicate: boolean } {
    const nowMs = this.now();
    this.expire(nowMs);
    if (msgId !== undefined) {
      const seenSeq = this.recentIds.get(msgId);
      if (seenSeq !== undefined) return { seq: seenSeq, duplicate: true };
    }
    const seq = ++this.lastSeq;
    this.messages.set(seq, { seq, subject, data: this.arena.copy(data), storedAtMs: nowMs });
    if (msgId !== undefined) {
      this.recentIds.set(msgId, seq);
      this.recentIdTimes.push(msgId, nowMs);
    }
    // A work queue's messages leave when they are acked: none is dropped before that.
    if (this.config.retention === 'limits' && this.messages.size > this.maxMessages) this.trim();
    return { seq, duplicate: false };
  }

  /** Lets go of the oldest messages beyond the cap, up to the first one a durable consumer still needs. */
  private trim(): void {
    for (; this.messages.size > this.maxMessages && this.firstSeq <= this.lastSeq; this.firstSeq++) {
      const message = this.messages.get(this.firstSeq);
      if (message && this.stillNeeded(message)) return;
      this.messages.delete(this.firstSeq);
    }
  }

  get(seq: number): StoredMessage | undefined {
    return this.messages.get(seq);
  }

  /** The first stored message after `seq` whose subject matches `filter`. */
  nextAfter(seq: number, filter: string | undefined): StoredMessage | undefined {
    this.expire(this.now());
    for (let candidate = Math.max(seq + 1, this.firstSeq); candidate <= this.lastSeq; candidate++) {
      const message = this.messages.get(candidate);
      if (message && (filter === undefined || subjectMatches(filter, message.subject))) return message;
    }
    return undefined;
  }

  /** Up to `limit` stored messages below `beforeSeq`, newest first. */
  latest(limit: number, beforeSeq: number | undefined): StoredBusMessage[] {
    this.expire(this.now());
    const found: StoredBusMessage[] = [];
    for (let seq = Math.min(this.lastSeq, (beforeSeq ?? Number.POSITIVE_INFINITY) - 1); seq >= this.firstSeq && found.length < limit; seq--) {
      const message = this.messages.get(seq);
      if (message) found.push({ subject: message.subject, data: copyBytes(message.data), seq });
    }
    return found;
  }

  /** Work-queue retention: an acked message is gone. */
  acknowledged(seq: number): void {
    if (this.config.retention === 'workqueue') this.messages.delete(seq);
  }

  get highestSeq(): number {
    return this.lastSeq;
  }

  private expire(nowMs: number): void {
    const ids = this.recentIdTimes;
    while (ids.size > 0 && nowMs - ids.headMs! >= this.config.duplicateWindowMs) {
      this.recentIds.delete(ids.headKey!);
      ids.shift();
    }
    if (this.config.maxAgeMs <= 0) return;
    for (; this.firstSeq <= this.lastSeq; this.firstSeq++) {
      const message = this.messages.get(this.firstSeq);
      if (message && nowMs - message.storedAtMs < this.config.maxAgeMs) break;
      this.messages.delete(this.firstSeq);
    }
  }
}

interface Attachment {
  readonly handler: MessageHandler;
  readonly inFlight: Set<Promise<void>>;
  stopped: boolean;
}

/** One durable consumer: its position, its unacked messages, and the handlers attached to it. */
class DurableState {
  private deliveredUpTo = 0;
  private readonly deliveryCounts = new Map<number, number>();
  /**
   * Delivered and not yet acked/terminated: counts against maxAckPending. `dueAtMs` is when it
   * is redelivered if still unsettled; `timer` is set only for a nak with a delay.
   */
  private readonly pending = new Map<number, { timer: ReturnType<typeof setTimeout> | undefined; dueAtMs: number }>();
  /** Pending messages whose redelivery is due now (nak'ed or ack-wait expired). */
  private readonly due: number[] = [];
  /**
   * Ack-wait deadlines in the order they were set. The ack wait is one duration per consumer,
   * so this is (nearly) sorted by due time and one timer for its head serves every delivery:
   * a timer per delivery was the largest cost of a message through this bus. Entries whose
   * message was settled or re-armed since are skipped when they come up.
   */
  private readonly deadlines = new TimedQueue<number>();
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimerAtMs = Number.POSITIVE_INFINITY;
  private readonly attachments: Attachment[] = [];
  private nextAttachment = 0;
  /** Where the delivered copies live (see `copyBytes`). */
  private readonly arena = new ByteArena();
  private options!: Required<Omit<ConsumerOptions, 'filterSubject'>> & { filterSubject: string | undefined };

  constructor(
    readonly stream: MemoryStream,
    options: ConsumerOptions,
    private readonly now: () => number,
  ) {
    this.configure(options);
  }

  configure(options: ConsumerOptions): void {
    this.options = {
      stream: options.stream,
      durable: options.durable,
      filterSubject: options.filterSubject,
      ackWaitMs: options.ackWaitMs ?? 30_000,
      maxDeliver: options.maxDeliver ?? -1,
      maxAckPending: options.maxAckPending ?? 64,
    };
  }

  attach(handler: MessageHandler): Consumer {
    const attachment: Attachment = { handler, inFlight: new Set(), stopped: false };
    this.attachments.push(attachment);
    queueMicrotask(() => this.pump());
    return {
      stop: async () => {
        attachment.stopped = true;
        const index = this.attachments.indexOf(attachment);
        if (index >= 0) this.attachments.splice(index, 1);
        await Promise.allSettled([...attachment.inFlight]);
      },
    };
  }

  async stopAll(): Promise<void> {
    const attached = this.attachments.splice(0);
    for (const attachment of attached) attachment.stopped = true;
    for (const entry of this.pending.values()) if (entry.timer) clearTimeout(entry.timer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    await Promise.allSettled(attached.flatMap((attachment) => [...attachment.inFlight]));
  }

  /** Whether this consumer has yet to deliver `message` (one its filter takes) or to see it settled. */
  needs(message: StoredMessage): boolean {
    if (this.pending.has(message.seq)) return true;
    return message.seq > this.deliveredUpTo && (this.options.filterSubject === undefined || subjectMatches(this.options.filterSubject, message.subject));
  }

  /** Delivers as much as the ack-pending cap and the attached handlers allow. */
  pump(): void {
    while (this.attachments.length > 0) {
      const seq = this.takeNext();
      if (seq === undefined) return;
      const message = this.stream.get(seq);
      if (!message) {
        this.settle(seq);
        continue;
      }
      const attachment = this.attachments[this.nextAttachment++ % this.attachments.length]!;
      this.deliver(attachment, message);
    }
  }

  private takeNext(): number | undefined {
    const redelivery = this.due.shift();
    if (redelivery !== undefined) return redelivery;
    if (this.pending.size >= this.options.maxAckPending) return undefined;
    const next = this.stream.nextAfter(this.deliveredUpTo, this.options.filterSubject);
    if (!next) return undefined;
    this.deliveredUpTo = next.seq;
    return next.seq;
  }

  private deliver(attachment: Attachment, stored: StoredMessage): void {
    const seq = stored.seq;
    const deliveryCount = (this.deliveryCounts.get(seq) ?? 0) + 1;
    this.deliveryCounts.set(seq, deliveryCount);
    this.armAckWait(seq, this.options.ackWaitMs);

    const message = new MemoryBusMessage(this, stored.subject, this.arena.copy(stored.data), seq, deliveryCount);

    let handled: Promise<void>;
    try {
      handled = Promise.resolve(attachment.handler(message));
    } catch (error) {
      handled = Promise.reject(error);
    }
    const run: Promise<void> = handled.then(
      () => {
        attachment.inFlight.delete(run);
        message.ack();
      },
      () => {
        attachment.inFlight.delete(run);
        message.nak(redeliveryDelayMs(deliveryCount));
      },
    );
    attachment.inFlight.add(run);
  }

  /** A delivered message was acked or terminated: it is done for this consumer. */
  settleDelivered(seq: number): void {
    this.settle(seq);
    this.stream.acknowledged(seq);
    this.pump();
  }

  /** The handler of a delivered message is still at it: its ack wait starts over. */
  extendAckWait(seq: number): void {
    this.armAckWait(seq, this.options.ackWaitMs);
  }

  /** Redelivers `seq` after `delayMs` unless it is settled first (the ack wait). */
  private armAckWait(seq: number, delayMs: number): void {
    const previous = this.pending.get(seq);
    if (previous?.timer) clearTimeout(previous.timer);
    const dueAtMs = this.now() + delayMs;
    this.pending.set(seq, { timer: undefined, dueAtMs });
    this.deadlines.push(seq, dueAtMs);
    this.armDeadlineTimer(dueAtMs);
  }

  private armDeadlineTimer(dueAtMs: number): void {
    if (this.deadlineTimer && this.deadlineTimerAtMs <= dueAtMs) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimerAtMs = dueAtMs;
    this.deadlineTimer = setTimeout(() => this.expireDeadlines(), Math.max(0, dueAtMs - this.now()));
    this.deadlineTimer.unref?.();
  }

  private expireDeadlines(): void {
    this.deadlineTimer = undefined;
    this.deadlineTimerAtMs = Number.POSITIVE_INFINITY;
    const nowMs = this.now();
    const expired: number[] = [];
    for (let seq = this.deadlines.headKey; seq !== undefined; seq = this.deadlines.headKey) {
      const dueAtMs = this.deadlines.headMs!;
      const entry = this.pending.get(seq);
      if (!entry || entry.timer || entry.dueAtMs !== dueAtMs) {
        this.deadlines.shift(); // settled, nak'ed with a delay, or re-armed since
        continue;
      }
      if (dueAtMs > nowMs) {
        this.armDeadlineTimer(dueAtMs);
        break;
      }
      this.deadlines.shift();
      expired.push(seq);
    }
    for (const seq of expired) this.redeliver(seq);
  }

  /** A nak: redelivered now, or after its own delay. */
  scheduleRedelivery(seq: number, delayMs: number): void {
    if (delayMs <= 0) {
      this.redeliver(seq);
      return;
    }
    const previous = this.pending.get(seq);
    if (previous?.timer) clearTimeout(previous.timer);
    const timer = setTimeout(() => this.redeliver(seq), delayMs);
    timer.unref?.();
    this.pending.set(seq, { timer, dueAtMs: this.now() + delayMs });
  }

  private redeliver(seq: number): void {
    const entry = this.pending.get(seq);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    const deliveries = this.deliveryCounts.get(seq) ?? 0;
    if (this.options.maxDeliver > 0 && deliveries >= this.options.maxDeliver) {
      // Given up: like JetStream, the message stays in the stream but this consumer moves on.
      this.settle(seq);
      this.pump();
      return;
    }
    this.pending.set(seq, { timer: undefined, dueAtMs: Number.NaN });
    this.due.push(seq);
    this.pump();
  }

  private settle(seq: number): void {
    const entry = this.pending.get(seq);
    if (entry?.timer) clearTimeout(entry.timer);
    this.pending.delete(seq);
    this.deliveryCounts.delete(seq);
    if (this.due.length > 0) {
      const dueIndex = this.due.indexOf(seq);
      if (dueIndex >= 0) this.due.splice(dueIndex, 1);
    }
    if (this.pending.size === 0 && this.deadlineTimer) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
      this.deadlineTimerAtMs = Number.POSITIVE_INFINITY;
      this.deadlines.clear();
    }
  }
}

/**
 * One delivery of a stored message. Settling it more than once does nothing. A class rather
 * than an object of closures: a delivery is made per message, on the hot path of every event.
 */
class MemoryBusMessage implements BusMessage {
  private settled = false;

  constructor(
    private readonly durable: DurableState,
    readonly subject: string,
    readonly data: Uint8Array,
    readonly seq: number,
    readonly deliveryCount: number,
  ) {}

  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.durable.settleDelivered(this.seq);
  }

  nak(delayMs = 0): void {
    if (this.settled) return;
    this.settled = true;
    this.durable.scheduleRedelivery(this.seq, delayMs);
  }

  working(): void {
    if (!this.settled) this.durable.extendAckWait(this.seq);
  }

  term(): void {
    this.ack();
  }
}

/**
 * A copy the caller cannot change under us, nor we under the caller, from Node's own pool.
 * Stream messages and deliveries come from arenas of their own instead (`ByteArena`): a
 * stream keeps its messages in publish order and drops them oldest first, and a delivery is
 * decoded and let go, so their slabs empty in order. A KV value is neither: one current
 * value of a key written long ago would keep a whole slab alive.
 */
function copyBytes(data: Uint8Array): Uint8Array {
  return Buffer.from(data);
}

interface MemoryKvEntry {
  readonly value: Uint8Array;
  readonly revision: number;
  readonly writtenAtMs: number;
}

/** Exported for its own tests; buses hand it out as a `KvBucket`. */
export class MemoryKv implements KvBucket {
  private readonly entries = new Map<string, MemoryKvEntry>();
  /** Every write's key, oldest first, with its time: what `dropExpired` walks. */
  private readonly writes = new TimedQueue<string>();
  private readonly watchers = new Set<(event: KvWatchEvent) => void>();
  private revision = 0;

  constructor(
    readonly name: string,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async get(key: string): Promise<KvEntry | undefined> {
    assertKvKey(key);
    const entry = this.live(key);
    return entry && { key, value: copyBytes(entry.value), revision: entry.revision };
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    assertKvKey(key);
    return this.write(key, value);
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    assertKvKey(key);
    if (this.live(key)) throw new KvConflictError(this.name, key);
    return this.write(key, value);
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    assertKvKey(key);
    if (this.live(key)?.revision !== expectedRevision) throw new KvConflictError(this.name, key);
    return this.write(key, value);
  }

  async delete(key: string): Promise<void> {
    assertKvKey(key);
    if (!this.entries.delete(key)) return;
    const revision = ++this.revision;
    this.notify({ key, value: undefined, revision });
  }

  async keys(prefix = ''): Promise<string[]> {
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix) && this.live(key));
  }

  async watch(onChange: (event: KvWatchEvent) => void): Promise<Subscription> {
    this.watchers.add(onChange);
    return { unsubscribe: () => this.watchers.delete(onChange) };
  }

  /** Entries held in memory, expired ones not yet dropped included. */
  get heldEntries(): number {
    return this.entries.size;
  }

  closeWatches(): void {
    this.watchers.clear();
  }

  private live(key: string): MemoryKvEntry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.ttlMs > 0 && this.now() - entry.writtenAtMs >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private write(key: string, value: Uint8Array): number {
    const revision = ++this.revision;
    const nowMs = this.now();
    this.entries.set(key, { value: copyBytes(value), revision, writtenAtMs: nowMs });
    if (this.ttlMs > 0) this.writes.push(key, nowMs);
    this.dropExpired(nowMs);
    this.notify({ key, value: copyBytes(value), revision });
    return revision;
  }

  /**
   * Drops entries whose ttl is over, oldest first, so a bucket nobody reads back (the seen
   * set: most ids are written once and never asked for again) holds one ttl's worth of
   * writes, not every key ever written. Amortized O(1) per write.
   */
  private dropExpired(nowMs: number): void {
    const writes = this.writes;
    while (writes.size > 0 && nowMs - writes.headMs! >= this.ttlMs) {
      const key = writes.headKey!;
      // A key written again since has a later write of its own in the queue.
      if (this.entries.get(key)?.writtenAtMs === writes.headMs) this.entries.delete(key);
      writes.shift();
    }
  }

  private notify(event: KvWatchEvent): void {
    for (const watcher of this.watchers) queueMicrotask(() => watcher(event));
  }
}
