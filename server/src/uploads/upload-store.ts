import { decodeTime } from 'ulid';
import { z } from 'zod';
import { BUCKETS, SKIP, decodeJson, encodeJson, jsonCodec, typedKv, type Bus, type KvBucket, type KvCodec, type KvConflictCounter, type TypedKv } from '../bus/index.js';
import { UPLOAD_ID_PATTERN, isPendingUpload, transitionUpload, uploadRecordSchema, type UploadRecord, type UploadStatus } from './upload-record.js';

/** Compare-and-sets a record change tries before giving up (`KvContentionError`). */
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
/** A place index as the ids it holds. */
const pendingIndexCodec: KvCodec<string[]> = {
  encode: (ids) => encodeJson(pendingIndexSchema.parse({ upload_ids: ids })),
  decode: (data) => decodeJson(data, pendingIndexSchema).upload_ids,
};

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

export interface UploadStoreOptions {
  /** Counts the compare-and-sets lost to another writer (`kvConflictCounter(registry)`). */
  readonly conflicts?: KvConflictCounter;
}

/**
 * Upload records in the `uploads` KV bucket; every change is a `TypedKv.update` (a
 * compare-and-set on the revision read, retried on a lost race; `KvContentionError` when it
 * keeps losing).
 */
export class UploadStore {
  private readonly records: TypedKv<UploadRecord>;
  private readonly indexes: TypedKv<string[]>;

  private constructor(
    private readonly bucket: KvBucket,
    private readonly now: () => number,
    options: UploadStoreOptions,
  ) {
    this.records = typedKv(bucket, jsonCodec(uploadRecordSchema, { validateWrites: true }), { conflicts: options.conflicts, maxAttempts: MAX_CAS_ATTEMPTS });
    this.indexes = typedKv(bucket, pendingIndexCodec, { conflicts: options.conflicts, maxAttempts: MAX_INDEX_CAS_ATTEMPTS });
  }

  static async open(bus: Bus, now: () => number = Date.now, options: UploadStoreOptions = {}): Promise<UploadStore> {
    return new UploadStore(await bus.kv(BUCKETS.uploads), now, options);
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

  /** Applies `change` with compare-and-set, re-reading on a lost race (`KvContentionError` when it keeps losing). Unchanged records are not written. */
  async update(uploadId: string, change: (record: UploadRecord) => UploadRecord): Promise<UploadRecord | undefined> {
    if (!UPLOAD_ID_PATTERN.test(uploadId)) return undefined;
    const written = await this.records.update(uploadId, (current) => {
      if (!current) return SKIP;
      const next = change(current);
      return next === current ? SKIP : next;
    });
    return written.value;
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

  /**
   * Applies `change` to the ids at `key` with compare-and-set; `change` answers undefined to
   * leave them. True when written. An emptied index is written empty, never deleted: a delete
   * is not a compare-and-set, so it could drop a place another grant reserved meanwhile.
   */
  private async changeIndex(key: string, change: (ids: string[]) => Promise<string[] | undefined>): Promise<boolean> {
    const written = await this.indexes.update(key, async (ids) => (await change(ids ?? [])) ?? SKIP);
    return written.outcome !== 'unchanged';
  }
}

function pendingKey(channel: string): string {
  return `${PENDING_KEY_PREFIX}${channel}`;
}
