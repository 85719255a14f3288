import { KvWatchInclude, NatsError, nanos, type JetStreamClient, type JetStreamManager, type KV } from 'nats';
import {
  BusUnavailableError,
  KvConflictError,
  type KvBucket,
  type KvBucketOptions,
  type KvEntry,
  type KvWatchEvent,
  type Subscription,
} from './bus.js';
import type { BusLogger } from './bus-logger.js';
import { assertKvKey } from './kv-key.js';
import { JETSTREAM_ERROR_CODES, describeError, jetStreamErrorCode } from './nats-errors.js';
import { createWhenAnswered } from './nats-unanswered.js';
import { JetStreamPublishError, type JetStreamPublisher } from './nats-publisher.js';
import { waitForReplication } from './nats-replicas.js';

/** A key listing that receives nothing for this long has everything the server had to send. */
const KEYS_IDLE_TIMEOUT_MS = 2_000;

/** JetStream's default duplicate window; a KV stream's window may not exceed its max age. */
const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/** What a KV bucket uses of the bus that owns it. */
export interface JetStreamKvContext {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Writes puts and compare-and-sets together with the bus's other publishes. */
  readonly publisher: JetStreamPublisher;
  readonly logger: BusLogger;
  /** Copies of each bucket's stream; an existing bucket with another count is re-replicated. */
  readonly replicas: number;
}

/**
 * Opens (creating if missing) the JetStream KV bucket `bucket`. The TTL is the bucket stream's
 * max age, and its replica count the bus's: when an existing bucket has a different one, the
 * stream is updated to match.
 */
export async function openJetStreamKv(context: JetStreamKvContext, bucket: string, options: KvBucketOptions): Promise<KvBucket> {
  const { js, jsm, logger, replicas } = context;
  const ttlMs = options.ttlMs ?? 0;
  const kv = await createWhenAnswered(() => js.views.kv(bucket, { history: 1, replicas, ...(ttlMs > 0 ? { ttl: ttlMs } : {}) }));
  // A read, as idempotent as the create: on a cluster under load its answer can be as late, and
  // when another replica's create of the same bucket won, its stream can take a moment to be
  // found (nats.js's view returned on "already in use", the info still says "not found").
  const status = await createWhenAnswered(
    () => kv.status(),
    undefined,
    (err) => jetStreamErrorCode(err) === JETSTREAM_ERROR_CODES.streamNotFound,
  );
  if (status.ttl !== ttlMs) {
    await jsm.streams.update(status.streamInfo.config.name, {
      max_age: nanos(ttlMs),
      duplicate_window: nanos(ttlMs > 0 ? Math.min(ttlMs, DEFAULT_DUPLICATE_WINDOW_MS) : DEFAULT_DUPLICATE_WINDOW_MS),
    });
    logger.info({ bucket, ttlMs }, 'updated JetStream KV bucket ttl');
  }
  const previousReplicas = status.streamInfo.config.num_replicas;
  if (previousReplicas !== replicas) {
    await jsm.streams.update(status.streamInfo.config.name, { num_replicas: replicas });
    logger.info({ bucket, replicas, previousReplicas }, 'updated JetStream KV bucket: replica count changed');
    await waitForReplication(jsm, status.streamInfo.config.name, replicas, logger);
  }
  return new JetStreamKvBucket(bucket, kv, context.publisher, logger, jsm, status.streamInfo.config.name);
}

/**
 * `KvBucket` over a JetStream KV view; deleted and purged entries read as missing. A put or a
 * compare-and-set is a publish to the key's subject (`$KV.<bucket>.<key>`, with the expected
 * last sequence for a compare-and-set), so it goes through the bus's publisher: written with
 * whatever else was published in the same turn, its ack read on the publisher's one reply
 * subscription. nats.js's `kv.put` is a request per write, with its own timer, and builds (and
 * throws away) an Error with a stack trace for every request that succeeds.
 */
class JetStreamKvBucket implements KvBucket {
  private readonly subjectPrefix: string;

  constructor(
    readonly name: string,
    private readonly kv: KV,
    private readonly publisher: JetStreamPublisher,
    private readonly logger: BusLogger,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {
    this.subjectPrefix = `$KV.${name}.`;
  }

  async get(key: string): Promise<KvEntry | undefined> {
    try {
      const entry = await this.kv.get(key);
      if (!entry || entry.operation !== 'PUT') return undefined;
      return { key, value: entry.value, revision: entry.revision };
    } catch (err) {
      throw this.unavailable('get', key, err);
    }
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    assertKvKey(key);
    try {
      return (await this.publisher.publish(this.subjectPrefix + key, value)).seq;
    } catch (err) {
      throw this.unavailable('put', key, err);
    }
  }

  /**
   * A publish that expects the key's subject to hold nothing (revision 0), through the
   * publisher like `put` (nats.js's `kv.create` was a request per write: the outbound worker
   * creates each delivery's first record). A subject that holds a delete or purge marker
   * takes the value over it, as nats.js's `create` does; one with a live value is a conflict.
   */
  async create(key: string, value: Uint8Array): Promise<number> {
    assertKvKey(key);
    try {
      return (await this.publisher.publish(this.subjectPrefix + key, value, { expectedLastSubjectSequence: 0 })).seq;
    } catch (err) {
      const error = this.conflictOrUnavailable('create', key, err);
      if (!(error instanceof KvConflictError)) throw error;
    }
    let marker: number | undefined;
    try {
      const entry = await this.kv.get(key);
      if (entry && entry.operation !== 'PUT') marker = entry.revision;
    } catch (err) {
      throw this.unavailable('create', key, err);
    }
    if (marker === undefined) throw new KvConflictError(this.name, key);
    return this.update(key, value, marker);
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    // JetStream reads revision 0 as "must not exist"; for a compare-and-set it can only be stale.
    if (expectedRevision <= 0) throw new KvConflictError(this.name, key);
    assertKvKey(key);
    try {
      return (await this.publisher.publish(this.subjectPrefix + key, value, { expectedLastSubjectSequence: expectedRevision })).seq;
    } catch (err) {
      throw this.conflictOrUnavailable('update', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.kv.delete(key);
    } catch (err) {
      throw this.unavailable('delete', key, err);
    }
  }

  /**
   * Every live key (starting with `prefix`), each once. nats.js lists keys with an ordered
   * consumer (last message per subject) and ends at the message that reports nothing pending.
   * While other writers work, that listing is not exact: the same key can come twice; a key
   * overwritten during the listing can be missed (its old message is gone before it is sent, and
   * the new one came after "nothing pending"); and a listing can wait for its last message
   * forever (CI saw an admin read hang for 300 s; nats-server#3481 is the same family). So keys
   * are deduplicated; a listing that receives nothing for `KEYS_IDLE_TIMEOUT_MS` ends with what
   * it has, logged; and when the stream moved during the listing, the subjects the stream holds
   * are compared with it and each one it missed is read (a deleted key's marker reads as missing).
   */
  async keys(prefix = ''): Promise<string[]> {
    const keys = new Set<string>();
    let lastSeqBefore: number;
    let listing: Awaited<ReturnType<KV['keys']>>;
    try {
      lastSeqBefore = (await this.jsm.streams.info(this.stream)).state.last_seq;
      // A prefix of whole tokens (`acme.show.`) is filtered by the server; any other prefix here.
      listing = await this.kv.keys(tokenPrefixFilter(prefix));
    } catch (err) {
      throw this.unavailable('keys', prefix, err);
    }
    let stalled = false;
    const watchdog = setTimeout(() => {
      stalled = true;
      listing.stop();
    }, KEYS_IDLE_TIMEOUT_MS);
    try {
      for await (const key of listing) {
        watchdog.refresh();
        if (key.startsWith(prefix)) keys.add(key);
      }
    } catch (err) {
      throw this.unavailable('keys', prefix, err);
    } finally {
      clearTimeout(watchdog);
    }
    if (stalled) this.logger.warn({ bucket: this.name, listed: keys.size }, 'kv key listing got no end-of-listing from JetStream; returning the keys received');
    await this.addKeysMissedWhileWritten(keys, prefix, lastSeqBefore);
    return [...keys];
  }

  /** When the bucket's stream moved since `lastSeqBefore`, reads each key the stream holds that `keys` lacks. */
  private async addKeysMissedWhileWritten(keys: Set<string>, prefix: string, lastSeqBefore: number): Promise<void> {
    let subjects: Record<string, number>;
    try {
      const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${this.subjectPrefix}${tokenPrefixFilter(prefix)}` });
      if (info.state.last_seq === lastSeqBefore) return;
      subjects = info.state.subjects ?? {};
    } catch (err) {
      throw this.unavailable('keys', prefix, err);
    }
    for (const subject of Object.keys(subjects)) {
      const key = subject.slice(this.subjectPrefix.length);
      if (keys.has(key) || !key.startsWith(prefix)) continue;
      if (await this.get(key)) keys.add(key);
    }
  }

  async watch(onChange: (event: KvWatchEvent) => void): Promise<Subscription> {
    let updates: Awaited<ReturnType<KV['watch']>>;
    try {
      updates = await this.kv.watch({ include: KvWatchInclude.UpdatesOnly });
    } catch (err) {
      throw this.unavailable('watch', '>', err);
    }
    void (async () => {
      try {
        for await (const entry of updates) {
          const event: KvWatchEvent = {
            key: entry.key,
            value: entry.operation === 'PUT' ? entry.value : undefined,
            revision: entry.revision,
          };
          try {
            onChange(event);
          } catch (err) {
            this.logger.warn({ bucket: this.name, key: entry.key, err: describeError(err) }, 'kv watch listener threw');
          }
        }
      } catch (err) {
        this.logger.warn({ bucket: this.name, err: describeError(err) }, 'kv watch ended');
      }
    })();
    return { unsubscribe: () => updates.stop() };
  }

  private conflictOrUnavailable(operation: string, key: string, err: unknown): Error {
    const code = err instanceof JetStreamPublishError ? err.apiErrorCode : jetStreamErrorCode(err);
    if (code === JETSTREAM_ERROR_CODES.wrongLastSequence) return new KvConflictError(this.name, key);
    return this.unavailable(operation, key, err);
  }

  /** Transport and server failures become `BusUnavailableError`; bad input (invalid key) passes through. */
  private unavailable(operation: string, key: string, err: unknown): Error {
    if (!(err instanceof NatsError) && !(err instanceof JetStreamPublishError)) return err instanceof Error ? err : new Error(String(err));
    return new BusUnavailableError(`kv ${operation} ${this.name}/${key} failed: ${describeError(err)}`, { cause: err });
  }
}

/** The KV key filter for a key prefix: `acme.show.` -> `acme.show.>` (the server filters by tokens); anything else -> `>`. */
function tokenPrefixFilter(prefix: string): string {
  return prefix.endsWith('.') && prefix.length > 1 ? `${prefix}>` : '>';
}
