import { decodeTime } from 'ulid';
import { z } from 'zod';
import { BUCKETS, KvConflictError, decodeJson, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { UPLOAD_ID_PATTERN, isPendingUpload, transitionUpload, uploadRecordSchema, type UploadRecord, type UploadStatus } from './upload-record.js';

const MAX_CAS_ATTEMPTS = 8;
/** Every grant of a channel writes its pending index: a burst of them contends on one key. */
const MAX_INDEX_CAS_ATTEMPTS = 32;

/**
 * Per channel, the ids of its pending uploads (`PENDING_UPLOAD_STATUSES`), in the same bucket
 * under `pending.{publisher}/{slug}`; per client of a channel, under
 * `pending-client.{publisher}/{slug}.{client key}`: never an upload id, which is upper-case.
 */
const PENDING_KEY_PREFIX = 'pending.';
const CLIENT_PENDING_KEY_PREFIX = 'pending-client.';
const pendingIndexSchema = z.object({ upload_ids: z.array(z.string().regex(UPLOAD_ID_PATTERN)) });

/** A place reserved for an upload whose record is not written yet is held this long (by the id's ULID time). */
const RESERVATION_GRACE_MS = 60_000;

/** How long a place is held, by what the upload has done so far. */
export interface PlaceRules {
  /** An upload still `uploading` that has received no byte this long after its grant frees its place. */
  readonly startWindowMs: number;
  /** An upload still `uploading` this long after its creation frees its place (the incomplete-upload expiry). */
  readonly uploadingTtlMs: number;
}

export interface PlaceCaps extends PlaceRules {
  /** Places of one channel. */
  readonly maxPending: number;
  /** Places of one client in one channel. */
  readonly maxPendingPerClient: number;
  /** Who asks (an opaque key: `[0-9a-z:]`, never an address). */
  readonly client: string;
}

/** Why a grant was refused, and when the first place of that scope frees (undefined: when an upload is checked or decided, no sooner). */
export type PlaceRefusal = { readonly scope: 'channel' | 'client'; readonly freesAtMs: number | undefined };

/**
 * When the place of upload `uploadId` frees: `undefined` while it is held with no known end
 * (checked, in review, approved: until it is decided), a time while it is held until then, or
 * `0` when it holds none. An upload that started (its first bytes are stored) keeps its place
 * until the incomplete-upload expiry; one that did not, only for the start window; a place
 * reserved for a record not written yet, for a minute.
 */
export function placeFreesAtMs(uploadId: string, record: UploadRecord | undefined, rules: PlaceRules, nowMs: number): number | undefined {
  let until: number;
  if (!record) until = decodeTime(uploadId) + RESERVATION_GRACE_MS;
  else if (record.status === 'uploading') until = Date.parse(record.created_at) + (record.received_at ? rules.uploadingTtlMs : rules.startWindowMs);
  else return isPendingUpload(record.status) ? undefined : 0;
  return until > nowMs ? until : 0;
}

/** Has an upload still `uploading` let its start window pass without a byte (so it holds no place, and can no longer start)? */
export function startLapsed(record: UploadRecord, startWindowMs: number, nowMs: number): boolean {
  return record.status === 'uploading' && !record.received_at && nowMs >= Date.parse(record.created_at) + startWindowMs;
}

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
   * Stores a new record if its channel has fewer than `maxPending` places taken and its client
   * fewer than `maxPendingPerClient` in that channel; answers why not otherwise (nothing stored).
   * Places are reserved by compare-and-set in the client's and then the channel's index before
   * the record is written, so concurrent grants, in this process or another on the same bus,
   * cannot overshoot; a client reservation whose channel refused is released. Places are freed
   * lazily, so status changes cost nothing extra: a full index is pruned of ids that hold no
   * place any more (`placeFreesAtMs`), which costs up to its length in record reads. Records
   * stored before the indexes existed are not counted.
   */
  async createWithinCaps(record: UploadRecord, caps: PlaceCaps): Promise<PlaceRefusal | undefined> {
    const clientKey = `${CLIENT_PENDING_KEY_PREFIX}${record.channel}.${caps.client.replace(/[^0-9a-z]/g, '')}`;
    const client = await this.reservePlace(clientKey, record.upload_id, caps.maxPendingPerClient, caps);
    if (client.refused) return { scope: 'client', freesAtMs: client.freesAtMs };
    const channel = await this.reservePlace(pendingKey(record.channel), record.upload_id, caps.maxPending, caps).catch(async (error: unknown) => {
      await this.releasePlace(clientKey, record.upload_id).catch(() => undefined);
      throw error;
    });
    if (channel.refused) {
      await this.releasePlace(clientKey, record.upload_id).catch(() => undefined);
      return { scope: 'channel', freesAtMs: channel.freesAtMs };
    }
    try {
      await this.create(record);
    } catch (error) {
      await this.releasePlace(pendingKey(record.channel), record.upload_id).catch(() => undefined);
      await this.releasePlace(clientKey, record.upload_id).catch(() => undefined);
      throw error;
    }
    return undefined;
  }

  /** Marks that an upload's first bytes are stored (once): from now on it keeps its place until the incomplete-upload expiry. */
  async markReceiving(uploadId: string): Promise<UploadRecord | undefined> {
    return this.update(uploadId, (record) => (record.received_at ? record : { ...record, received_at: new Date(this.now()).toISOString() }));
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

  private releasePlace(key: string, uploadId: string): Promise<boolean> {
    return this.changeIndex(key, async (ids) => (ids.includes(uploadId) ? ids.filter((id) => id !== uploadId) : undefined));
  }

  /** Adds `uploadId` to the index at `key` unless it holds `max` ids that still hold places; else when the first of them frees. */
  private async reservePlace(key: string, uploadId: string, max: number, rules: PlaceRules): Promise<{ refused: false } | { refused: true; freesAtMs: number | undefined }> {
    let freesAtMs: number | undefined;
    const written = await this.changeIndex(key, async (ids) => {
      if (ids.length < max) return [...ids, uploadId];
      const nowMs = this.now();
      const frees = await Promise.all(ids.map(async (id) => placeFreesAtMs(id, await this.get(id), rules, nowMs)));
      const kept = ids.filter((_, index) => frees[index] !== 0);
      if (kept.length < max) return [...kept, uploadId];
      const known = frees.filter((at): at is number => at !== undefined);
      freesAtMs = known.length > 0 ? Math.min(...known) : undefined;
      return undefined;
    });
    return written ? { refused: false } : { refused: true, freesAtMs };
  }

  /** Applies `change` to the ids at `key` with compare-and-set; `change` answers undefined to leave them. True when written. */
  private async changeIndex(key: string, change: (ids: string[]) => Promise<string[] | undefined>): Promise<boolean> {
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
