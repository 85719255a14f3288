import { BUCKETS, KvConflictError, SKIP, decodeJson, encodeJson, jsonCodec, typedKv, type Bus, type KvBucket, type KvConflictCounter, type TypedKv } from '../bus/index.js';
import { deliveryRecordSchema, encodeRecordOverJob, type DeliveryRecord } from './delivery.js';

/** How long delivery states are kept (the retry schedule is about three days). */
export const DELIVERY_RECORD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const key = (subscriberId: string, deliveryId: string) => `${subscriberId}.${deliveryId}`;

/**
 * Delivery states (TTL'd) and dead letters (kept until removed), keyed
 * `{subscriber id}.{delivery id}` so one subscriber's deliveries list by prefix.
 */
export class DeliveryStore {
  private readonly typedDeadLetters: TypedKv<DeliveryRecord>;

  private constructor(
    private readonly deliveries: KvBucket,
    private readonly deadLetters: KvBucket,
    conflicts: KvConflictCounter | undefined,
  ) {
    this.typedDeadLetters = typedKv(deadLetters, jsonCodec(deliveryRecordSchema), { conflicts });
  }

  static async open(bus: Bus, options: { readonly conflicts?: KvConflictCounter } = {}): Promise<DeliveryStore> {
    return new DeliveryStore(
      await bus.kv(BUCKETS.outboundDeliveries, { ttlMs: DELIVERY_RECORD_TTL_MS }),
      await bus.kv(BUCKETS.outboundDeadLetters),
      options.conflicts,
    );
  }

  async get(subscriberId: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const entry = await this.deliveries.get(key(subscriberId, deliveryId));
    return entry && decodeJson(entry.value, deliveryRecordSchema);
  }

  async put(record: DeliveryRecord): Promise<void> {
    await this.deliveries.put(key(record.subscriber_id, record.delivery_id), encodeJson(record));
  }

  /**
   * Writes the first record of a delivery made from its job alone (see `encodeRecordOverJob`),
   * only if the delivery has none yet. False when one exists: an earlier delivery of the job
   * recorded an attempt although this one came as a first delivery (after a JetStream
   * consumer's leader changes, a message can come again with its count started over).
   */
  async createFirst(record: DeliveryRecord, jobJson: string): Promise<boolean> {
    try {
      await this.deliveries.create(key(record.subscriber_id, record.delivery_id), encodeRecordOverJob(jobJson, record));
      return true;
    } catch (error) {
      if (error instanceof KvConflictError) return false;
      throw error;
    }
  }

  async getDeadLetter(subscriberId: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const entry = await this.deadLetters.get(key(subscriberId, deliveryId));
    return entry && decodeJson(entry.value, deliveryRecordSchema);
  }

  /** Records a dead delivery in both buckets. */
  async putDeadLetter(record: DeliveryRecord): Promise<void> {
    await this.deadLetters.put(key(record.subscriber_id, record.delivery_id), encodeJson(record));
    await this.put(record);
  }

  /** Read-modify-write of a dead letter (marking it replayed); undefined when there is none. */
  async updateDeadLetter(subscriberId: string, deliveryId: string, change: (current: DeliveryRecord) => DeliveryRecord): Promise<DeliveryRecord | undefined> {
    const result = await this.typedDeadLetters.update(key(subscriberId, deliveryId), (current) => (current === undefined ? SKIP : change(current)));
    return result.value;
  }

  async deleteDeadLetter(subscriberId: string, deliveryId: string): Promise<boolean> {
    const id = key(subscriberId, deliveryId);
    if (!(await this.deadLetters.get(id))) return false;
    await this.deadLetters.delete(id);
    return true;
  }

  /** Deliveries of a subscriber (newest first), at most `limit`. */
  async list(subscriberId: string, limit: number): Promise<DeliveryRecord[]> {
    return this.read(this.deliveries, `${subscriberId}.`, limit);
  }

  /** Dead letters, of one subscriber or all (newest first), at most `limit`. */
  async listDeadLetters(subscriberId: string | undefined, limit: number): Promise<DeliveryRecord[]> {
    return this.read(this.deadLetters, subscriberId === undefined ? undefined : `${subscriberId}.`, limit);
  }

  private async read(bucket: KvBucket, prefix: string | undefined, limit: number): Promise<DeliveryRecord[]> {
    const records: DeliveryRecord[] = [];
    for (const id of await bucket.keys(prefix)) {
      const entry = await bucket.get(id);
      if (entry) records.push(decodeJson(entry.value, deliveryRecordSchema));
    }
    records.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
    return records.slice(0, limit);
  }
}
