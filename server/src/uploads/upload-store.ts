import { decodeTime } from 'ulid';
import { z } from 'zod';
import { BUCKETS, KvConflictError, decodeJson, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { UPLOAD_ID_PATTERN, isPendingUpload, transitionUpload, uploadRecordSchema, type UploadRecord, type UploadStatus } from './upload-record.js';

const MAX_CAS_ATTEMPTS = 8;
/** Every grant of a channel writes its pending index: a burst of them contends on one key. */
const MAX_INDEX_CAS_ATTEMPTS = 32;

/**
 * Per channel, the ids of its pending uploads (`PENDING_UPLOAD_STATUSES`), in the same bucket
 * under `pending.{publisher}/{slug}`: never an upload id, which is upper-case.
 */
const PENDING_KEY_PREFIX = 'pending.';
const pendingIndexSchema = z.object({ upload_ids: z.array(z.string().regex(UPLOAD_ID_PATTERN)) });

/** A place reserved for an upload whose record is not written yet is held this long (by the id's ULID time). */
const RESERVATION_GRACE_MS = 60_000;

/** A compare-and-set kept losing the race. */
export class UploadStoreConflictError extends Error {
  constructor(readonly uploadId: string) {
    super(`upload ${uploadId} is being changed concurrently`);
    this.name = 'UploadStoreConflictError';
  }
}

/** Upload records in the `uploads` KV bucket; every change is a compare-and-set on the revision read. */
export class UploadStore {
  private constructor(
    private readonly bucket: KvBucket,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, now: () => number = Date.now): Promise<UploadStore> {
    return new UploadStore(await bus.kv(BUCKETS.uploads), now);
  }

  /** Stores a new record; throws `KvConflictError` when the id is taken. */
  async create(record: UploadRecord): Promise<void> {
    await this.bucket.create(record.upload_id, encodeJson(uploadRecordSchema.parse(record)));
  }

  /**
   * Stores a new record if its channel has fewer than `maxPending` pending uploads; false, and
   * nothing stored, when it has that many. The place is reserved in the channel's pending index
   * by compare-and-set before the record is written, so concurrent grants cannot overshoot.
   * Places are freed lazily, so status changes cost nothing extra: when the index is full it is
   * pruned of ids whose record has left the pending statuses (they never come back), was never
   * written, or is still `uploading` `uploadingTtlMs` after its creation (abandoned: the
   * incomplete-upload expiry deletes its file and it can no longer be resumed). A full channel
   * thus costs up to `maxPending` record reads per grant. Records stored before the index
   * existed are not counted.
   */
  async createWithinChannelCap(record: UploadRecord, cap: { maxPending: number; uploadingTtlMs: number }): Promise<boolean> {
    const { maxPending } = cap;
    const reserved = await this.changePendingIndex(record.channel, async (ids) => {
      const kept = ids.length >= maxPending ? await this.stillPending(ids, cap.uploadingTtlMs) : ids;
      return kept.length >= maxPending ? undefined : [...kept, record.upload_id];
    });
    if (!reserved) return false;
    try {
      await this.create(record);
    } catch (error) {
      await this.releasePending(record.channel, record.upload_id).catch(() => undefined);
      throw error;
    }
    return true;
  }

  async get(uploadId: string): Promise<UploadRecord | undefined> {
    if (!UPLOAD_ID_PATTERN.test(uploadId)) return undefined;
    const entry = await this.bucket.get(uploadId);
    return entry && decodeJson(entry.value, uploadRecordSchema);
  }

  /** Every record (a scan of the bucket: fine for a moderation queue, not for millions of uploads). */
  async list(): Promise<UploadRecord[]> {
    const records: UploadRecord[] = [];
    for (const key of await this.bucket.keys()) {
      const record = await this.get(key);
      if (record) records.push(record);
    }
    return records;
  }

  /** Moves a record to `to` (idempotent); undefined when there is no such upload. Throws `UploadTransitionError` on a forbidden move. */
  async transition(uploadId: string, to: UploadStatus): Promise<UploadRecord | undefined> {
    return this.update(uploadId, (record) => transitionUpload(record, to, new Date(this.now()).toISOString()));
  }

  /** Applies `change` with compare-and-set, re-reading on a lost race. Unchanged records are not written. */
  async update(uploadId: string, change: (record: UploadRecord) => UploadRecord): Promise<UploadRecord | undefined> {
    if (!UPLOAD_ID_PATTERN.test(uploadId)) return undefined;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.bucket.get(uploadId);
      if (!entry) return undefined;
      const current = decodeJson(entry.value, uploadRecordSchema);
      const next = change(current);
      if (next === current) return current;
      try {
        await this.bucket.update(uploadId, encodeJson(uploadRecordSchema.parse(next)), entry.revision);
        return next;
      } catch (error) {
        if (!(error instanceof KvConflictError)) throw error;
      }
    }
    throw new UploadStoreConflictError(uploadId);
  }

  private releasePending(channel: string, uploadId: string): Promise<boolean> {
    return this.changePendingIndex(channel, async (ids) => (ids.includes(uploadId) ? ids.filter((id) => id !== uploadId) : undefined));
  }

  /** The ids that still hold a place: pending and not abandoned, or not written yet but reserved moments ago. */
  private async stillPending(ids: readonly string[], uploadingTtlMs: number): Promise<string[]> {
    const records = await Promise.all(ids.map((id) => this.get(id)));
    const nowMs = this.now();
    return ids.filter((id, index) => {
      const record = records[index];
      if (!record) return nowMs - decodeTime(id) < RESERVATION_GRACE_MS;
      if (record.status === 'uploading') return nowMs < Date.parse(record.created_at) + uploadingTtlMs;
      return isPendingUpload(record.status);
    });
  }

  /** Applies `change` to a channel's pending ids with compare-and-set; `change` answers undefined to leave them. True when written. */
  private async changePendingIndex(channel: string, change: (ids: string[]) => Promise<string[] | undefined>): Promise<boolean> {
    const key = pendingKey(channel);
    for (let attempt = 0; attempt < MAX_INDEX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.bucket.get(key);
      const next = await change(entry ? decodeJson(entry.value, pendingIndexSchema).upload_ids : []);
      if (next === undefined) return false;
      const value = encodeJson(pendingIndexSchema.parse({ upload_ids: next }));
      try {
        if (entry) await this.bucket.update(key, value, entry.revision);
        else await this.bucket.create(key, value);
        return true;
      } catch (error) {
        if (!(error instanceof KvConflictError)) throw error;
      }
    }
    throw new UploadStoreConflictError(key);
  }
}

function pendingKey(channel: string): string {
  return `${PENDING_KEY_PREFIX}${channel}`;
}
