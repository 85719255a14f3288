import { BUCKETS, SKIP, encodeJson, jsonCodec, typedKv, type Bus, type KvBucket, type KvConflictCounter, type Subscription, type TypedKv } from '../bus/index.js';
import { subscriberRecordSchema, type SubscriberRecord } from './subscriber.js';

/**
 * Outbound subscribers in the `outbound-subscribers` KV bucket, with an in-process copy kept
 * current by a KV watch (the fan-out reads every subscriber on every event; a fleet's admin
 * writes reach every process through the watch). Writes go through compare-and-set.
 */
export class SubscriberStore {
  private readonly cache = new Map<string, SubscriberRecord>();
  private watch: Subscription | undefined;
  private readonly records: TypedKv<SubscriberRecord>;

  private constructor(
    private readonly kv: KvBucket,
    conflicts: KvConflictCounter | undefined,
  ) {
    this.records = typedKv(kv, jsonCodec(subscriberRecordSchema), { conflicts });
  }

  static async open(bus: Bus, options: { readonly conflicts?: KvConflictCounter } = {}): Promise<SubscriberStore> {
    const store = new SubscriberStore(await bus.kv(BUCKETS.outboundSubscribers), options.conflicts);
    store.watch = await store.kv.watch((event) => {
      if (event.value === undefined) store.cache.delete(event.key);
      else store.remember(event.value);
    });
    for (const key of await store.kv.keys()) {
      const entry = await store.kv.get(key);
      if (entry) store.remember(entry.value);
    }
    return store;
  }

  private remember(value: Uint8Array): SubscriberRecord | undefined {
    const parsed = subscriberRecordSchema.safeParse(JSON.parse(new TextDecoder().decode(value)));
    if (!parsed.success) return undefined;
    this.cache.set(parsed.data.id, parsed.data);
    return parsed.data;
  }

  /** Every subscriber, oldest first (ids are ULIDs). */
  list(): SubscriberRecord[] {
    return [...this.cache.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** From the watched copy, else from the bucket (a write on another process not seen yet). */
  async get(id: string): Promise<SubscriberRecord | undefined> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const entry = await this.kv.get(id);
    return entry ? this.remember(entry.value) : undefined;
  }

  async create(record: SubscriberRecord): Promise<void> {
    await this.kv.create(record.id, encodeJson(record));
    this.cache.set(record.id, record);
  }

  /** Read-modify-write by compare-and-set; undefined when there is no such subscriber. `change` answering its argument writes nothing. */
  async update(id: string, change: (current: SubscriberRecord) => SubscriberRecord): Promise<SubscriberRecord | undefined> {
    const result = await this.records.update(id, (current) => {
      if (current === undefined) return SKIP;
      const next = change(current);
      return next === current ? SKIP : next;
    });
    if (result.outcome === 'updated') this.cache.set(id, result.value!);
    return result.value;
  }

  /** True when it existed. */
  async delete(id: string): Promise<boolean> {
    const existed = (await this.kv.get(id)) !== undefined;
    if (existed) await this.kv.delete(id);
    this.cache.delete(id);
    return existed;
  }

  close(): void {
    this.watch?.unsubscribe();
    this.watch = undefined;
  }
}
