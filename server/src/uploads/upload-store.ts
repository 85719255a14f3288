import { BUCKETS, KvConflictError, decodeJson, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { UPLOAD_ID_PATTERN, transitionUpload, uploadRecordSchema, type UploadRecord, type UploadStatus } from './upload-record.js';

const MAX_CAS_ATTEMPTS = 8;

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
}
