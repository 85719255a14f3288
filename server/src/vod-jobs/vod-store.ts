import { parseCanonicalId, parseChannelRef } from '@live-upload/schema';
import { BUCKETS, SKIP, jsonCodec, typedKv, type Bus, type KvBucket, type KvChange, type KvConflictCounter, type KvUpdateResult, type TypedKv } from '../bus/index.js';
import { isFinalVodState, vodRecordSchema, type VodRecord } from './vod-record.js';

/** Compare-and-sets of one record change before `KvContentionError` (progress writes race the cancel). */
const MAX_CAS_ATTEMPTS = 16;
/** Largest page `list` answers. */
export const MAX_VOD_PAGE = 100;

/** The KV key of a broadcast's record: `{publisher}.{slug}.{ulid}` (a canonical id's `:` is no KV key character). */
export function vodRecordKey(canonicalId: string): string {
  const parsed = parseCanonicalId(canonicalId);
  if (!parsed) throw new RangeError(`not a canonical id: ${canonicalId}`);
  return `${parsed.publisher}.${parsed.slug}.${parsed.ulid}`;
}

export interface VodPage {
  /** Newest broadcast first (by the ULID of its canonical id: its start time). */
  readonly vods: VodRecord[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  readonly next_cursor?: string;
}

export interface VodListOptions {
  /** 1 to `MAX_VOD_PAGE`; default 20. */
  readonly limit?: number;
  /** A `next_cursor` of the previous page (the ULID of its last record): only older broadcasts. */
  readonly cursor?: string;
}

/**
 * Replay records (`VodRecord`) in the `vods` KV bucket, one per broadcast. Every change is a
 * `TypedKv.update` (compare-and-set, retried on a lost race), so the worker's progress writes,
 * its final transition and a cancel never overwrite each other.
 */
export class VodStore {
  private readonly records: TypedKv<VodRecord>;

  private constructor(
    private readonly bucket: KvBucket,
    conflicts: KvConflictCounter | undefined,
  ) {
    this.records = typedKv(bucket, jsonCodec(vodRecordSchema, { validateWrites: true }), { maxAttempts: MAX_CAS_ATTEMPTS, ...(conflicts ? { conflicts } : {}) });
  }

  static async open(bus: Bus, options: { readonly conflicts?: KvConflictCounter } = {}): Promise<VodStore> {
    return new VodStore(await bus.kv(BUCKETS.vods), options.conflicts);
  }

  async get(canonicalId: string): Promise<VodRecord | undefined> {
    if (!parseCanonicalId(canonicalId)) return undefined;
    return (await this.records.get(vodRecordKey(canonicalId)))?.value;
  }

  /** Read-modify-write of one record (see `TypedKv.update`). */
  async update(canonicalId: string, change: KvChange<VodRecord>): Promise<KvUpdateResult<VodRecord>> {
    return this.records.update(vodRecordKey(canonicalId), change);
  }

  /**
   * Marks a replay cancelled unless it already ended (published, failed, cancelled): the worker
   * holding its job aborts at its next check and removes what it wrote. Answers the record as it
   * is now (undefined: no such replay).
   */
  async cancel(canonicalId: string, nowIso: string = new Date().toISOString()): Promise<VodRecord | undefined> {
    if (!parseCanonicalId(canonicalId)) return undefined;
    const result = await this.update(canonicalId, (current) => {
      if (!current || isFinalVodState(current.state)) return SKIP;
      const { progress: _progress, ...rest } = current;
      return { ...rest, state: 'cancelled', updated_at: nowIso };
    });
    return result.value;
  }

  /**
   * One page of a channel's replays (`publisher/slug`), newest broadcast first, in every state
   * (the caller filters what it shows). A scan of the channel's keys: fine for hundreds of
   * broadcasts per channel.
   */
  async list(channel: string, options: VodListOptions = {}): Promise<VodPage> {
    const ref = parseChannelRef(channel);
    if (!ref) throw new RangeError(`not a channel: ${channel}`);
    const limit = Math.min(MAX_VOD_PAGE, Math.max(1, Math.floor(options.limit ?? 20)));
    const prefix = `${ref.publisher}.${ref.slug}.`;
    const ulids = (await this.bucket.keys(prefix))
      .map((key) => key.slice(prefix.length))
      .filter((id) => !id.includes('.') && (options.cursor === undefined || id < options.cursor))
      .sort()
      .reverse();
    const vods: VodRecord[] = [];
    let index = 0;
    for (; index < ulids.length && vods.length < limit; index++) {
      const record = (await this.records.get(`${prefix}${ulids[index]}`))?.value;
      if (record) vods.push(record);
    }
    const last = vods.at(-1);
    const more = index < ulids.length && last !== undefined;
    return more ? { vods, next_cursor: parseCanonicalId(last.canonical_id)?.ulid ?? '' } : { vods };
  }
}
