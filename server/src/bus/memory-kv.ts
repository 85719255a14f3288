import { KvConflictError, type KvBucket, type KvEntry, type KvWatchEvent, type Subscription } from './bus.js';
import { copyBytes } from './copy-bytes.js';
import { assertKvKey } from './kv-key.js';
import { TimedQueue } from './timed-queue.js';

interface MemoryKvEntry {
  readonly value: Uint8Array;
  readonly revision: number;
  readonly writtenAtMs: number;
}

/** A KV bucket of the memory bus: revisions, compare-and-set, ttl, watch. Exported for its own tests; the bus hands it out as a `KvBucket`. */
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
