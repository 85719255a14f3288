/**
 * The one bus contract. Two implementations pass the same contract suite (`bus.contract.ts`):
 * `memory.ts` (single process, the default) and `nats.ts` (JetStream streams and KV buckets).
 *
 * Payloads are bytes; `json.ts` has the typed helpers. Subjects and streams come from the
 * tables in `subjects.ts`, never from string literals at call sites.
 */

export interface StreamConfig {
  /** JetStream stream name, e.g. `LIVE_RAW`. */
  readonly name: string;
  /** Subjects captured, NATS wildcards allowed (`live.raw.>`). */
  readonly subjects: readonly string[];
  /** `limits` keeps messages until max age; `workqueue` removes a message once acked. */
  readonly retention: 'limits' | 'workqueue';
  /** Messages older than this are dropped. 0 = forever. */
  readonly maxAgeMs: number;
  /** Window in which a repeated msg id is dropped as a duplicate. */
  readonly duplicateWindowMs: number;
}

export interface PublishOptions {
  /** Dedupe key: a second publish with the same id inside the stream's window is dropped. */
  readonly msgId?: string;
}

export interface PublishAck {
  readonly stream: string;
  readonly seq: number;
  /** True when the msg id was seen inside the duplicate window; nothing was stored. */
  readonly duplicate: boolean;
}

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Stream sequence of this message. */
  readonly seq: number;
  /** 1 on first delivery, 2 on the first redelivery, ... */
  readonly deliveryCount: number;
  /** Acknowledge: never delivered again to this consumer. */
  ack(): void;
  /** Negative acknowledge: redeliver after `delayMs` (0 = as soon as possible). */
  nak(delayMs?: number): void;
  /** Still working: restart the ack-wait clock. */
  working(): void;
  /** Terminate: never redeliver, the message is poison. */
  term(): void;
}

/** A message as stored in a stream, read back without a consumer. */
export interface StoredBusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly seq: number;
}

export interface ReadLatestOptions {
  /** At most this many messages. */
  readonly limit: number;
  /** Only messages with a sequence below this (the `seq` of the last page's oldest message). */
  readonly beforeSeq?: number;
}

export interface ConsumerOptions {
  readonly stream: string;
  /** Durable name: consumers with the same name share the work and resume where they left off. */
  readonly durable: string;
  /** Only messages on this subject (wildcards allowed) within the stream. */
  readonly filterSubject?: string;
  /** Not acked within this: redelivered. Default 30 s. */
  readonly ackWaitMs?: number;
  /** Deliveries before giving up (the message is then left, never delivered again). -1 = no limit (default). */
  readonly maxDeliver?: number;
  /** Unacked messages in flight at once: the backpressure. Default 64. */
  readonly maxAckPending?: number;
}

/**
 * Handles one message. When it resolves without having called ack/nak/term, the message is
 * acked. When it throws, the message is nak'ed with an exponential backoff by delivery count.
 */
export type MessageHandler = (message: BusMessage) => Promise<void> | void;

export interface Consumer {
  /** Stops taking new messages and waits for in-flight handlers to finish. */
  stop(): Promise<void>;
}

export interface Subscription {
  unsubscribe(): void;
}

export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  readonly revision: number;
}

export interface KvWatchEvent {
  readonly key: string;
  /** Undefined when the key was deleted. */
  readonly value: Uint8Array | undefined;
  readonly revision: number;
}

export interface KvBucketOptions {
  /** Entries older than this expire. 0 = never (default). */
  readonly ttlMs?: number;
}

/** Keys: `[-/_=.a-zA-Z0-9]+`, not starting or ending with `.` (the NATS KV rule, held by both). */
export interface KvBucket {
  readonly name: string;
  get(key: string): Promise<KvEntry | undefined>;
  /** Unconditional write; returns the new revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Write only if the key does not exist; throws `KvConflictError` otherwise. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Compare-and-set: write only if the key is at `expectedRevision`; throws `KvConflictError` otherwise. */
  update(key: string, value: Uint8Array, expectedRevision: number): Promise<number>;
  delete(key: string): Promise<void>;
  /** Current keys, optionally only those starting with `prefix`. */
  keys(prefix?: string): Promise<string[]>;
  /** Calls `onChange` for every change after the call (not the current values). */
  watch(onChange: (event: KvWatchEvent) => void): Promise<Subscription>;
}

export interface Bus {
  /** `memory` or `nats`: for logs and readiness. */
  readonly kind: 'memory' | 'nats';
  /** Creates the streams if missing (idempotent). Called once at start. */
  ensureStreams(streams: readonly StreamConfig[]): Promise<void>;
  /** Durable publish into the stream that captures `subject`; resolves once stored (acked). */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck>;
  /** Durable consumer with ack / nak(delay) / redelivery. */
  consume(options: ConsumerOptions, handler: MessageHandler): Promise<Consumer>;
  /**
   * The newest stored messages of a stream, newest first, without a consumer (an audit log
   * page). Meant for `limits` streams; sequences removed by retention are skipped.
   */
  readLatest(stream: string, options: ReadLatestOptions): Promise<StoredBusMessage[]>;
  /** Ephemeral fan-out: every message published on a matching subject from now on. At most once. */
  subscribe(subjectPattern: string, handler: (subject: string, data: Uint8Array) => void): Subscription;
  /** Opens (creating if missing) a KV bucket. */
  kv(bucket: string, options?: KvBucketOptions): Promise<KvBucket>;
  /** True while the bus can accept publishes. */
  isReady(): boolean;
  /** Drains consumers and closes connections. */
  close(): Promise<void>;
}

/** A KV create or compare-and-set lost the race. */
export class KvConflictError extends Error {
  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {
    super(`kv conflict on ${bucket}/${key}`);
    this.name = 'KvConflictError';
  }
}

/** The bus could not take the publish (disconnected, timed out, no stream). */
export class BusUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BusUnavailableError';
  }
}

/** Backoff used when a handler throws: 1 s, 2 s, 4 s ... capped at 60 s. */
export function redeliveryDelayMs(deliveryCount: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * NATS subject matching: `*` matches one token, `>` one or more trailing tokens. Walks both
 * strings in place: it runs for every stream and subscription on every publish, and splitting
 * into arrays there was a measurable share of a publish.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  let p = 0;
  let s = 0;
  for (;;) {
    let patternEnd = pattern.indexOf('.', p);
    if (patternEnd < 0) patternEnd = pattern.length;
    const subjectLeft = s <= subject.length;
    if (patternEnd - p === 1 && pattern.charCodeAt(p) === GREATER_THAN) return subjectLeft;
    if (!subjectLeft) return false;
    let subjectEnd = subject.indexOf('.', s);
    if (subjectEnd < 0) subjectEnd = subject.length;
    if (!(patternEnd - p === 1 && pattern.charCodeAt(p) === ASTERISK) && !sameToken(pattern, p, patternEnd, subject, s, subjectEnd)) return false;
    p = patternEnd + 1;
    s = subjectEnd + 1;
    if (p > pattern.length) return s > subject.length;
  }
}

const GREATER_THAN = 0x3e;
const ASTERISK = 0x2a;

function sameToken(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  return true;
}
