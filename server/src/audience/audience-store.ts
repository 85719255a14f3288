import { BUCKETS, KvConflictError, KvContentionError, SKIP, jsonCodec, typedKv, type Bus, type KvConflictCounter, type KvWatchEvent, type Subscription, type TypedKv, type TypedKvEntry } from '../bus/index.js';
import { decodeJson } from '../bus/index.js';
import { audienceMinuteSchema, broadcastKeyOf, entriesOf, foldBeacons, minuteKeyOf, unionCells, type AudienceMinute } from './audience-minute.js';
import { SHARD_AFTER_ENTRIES, SHARD_COUNT, shardKeyOf, shardOf, splitCells } from './audience-minute-shards.js';
import { addMinuteDelta, audienceTotalsSchema, minuteDelta, sumDeltas, type AudienceTotals, type MinuteDelta } from './audience-totals.js';
import type { AudienceBeacon } from './beacon.js';

/** How long a broadcast's audience numbers are kept. */
export const AUDIENCE_TTL_MS = 90 * 24 * 60 * 60 * 1000;

/** Minutes read at once when a broadcast's report is assembled. */
const READ_CONCURRENCY = 32;

/** Rounds of a beacon fold that found the minute's main record changed under it while splitting it, before the batch is left to its redelivery. */
const MAX_SPLIT_ROUNDS = 10;

/** A minute key is `{publisher}.{slug}.{ulid}.{minute}`; a shard's has one more token. */
const isMinuteKey = (broadcastKey: string, key: string) => /^\d+$/.test(key.slice(broadcastKey.length + 1));

/**
 * The audience aggregate in KV: per broadcast minute (`audience-minutes`) and per broadcast
 * (`audience-totals`). Every write is a compare-and-set of a whole record, retried on a lost
 * race, and every fold is a set union or a maximum, so two replicas aggregating at once, or a
 * redelivered batch, never lose or double a count.
 */
export class AudienceStore {
  private constructor(
    private readonly minutes: TypedKv<AudienceMinute>,
    private readonly totals: TypedKv<AudienceTotals>,
  ) {}

  static async open(bus: Bus, options: { readonly conflicts?: KvConflictCounter } = {}): Promise<AudienceStore> {
    const kvOptions = options.conflicts ? { conflicts: options.conflicts } : {};
    return new AudienceStore(
      typedKv(await bus.kv(BUCKETS.audienceMinutes, { ttlMs: AUDIENCE_TTL_MS }), jsonCodec(audienceMinuteSchema), kvOptions),
      typedKv(await bus.kv(BUCKETS.audienceTotals, { ttlMs: AUDIENCE_TTL_MS }), jsonCodec(audienceTotalsSchema), kvOptions),
    );
  }

  /**
   * Folds beacons (all of this broadcast and minute) into the minute, then adds what they added
   * to the broadcast's totals, in one write of the totals.
   *
   * A minute starts as one record. When a fold would take it past `SHARD_AFTER_ENTRIES`, it is
   * split: its cells are copied (set unions) into shard records by session hash, then its main
   * record is marked split (`shards`, cells emptied) by compare-and-set, only while its cells
   * are still those copied. A fold that landed meanwhile makes the split start again; so the
   * shards always hold all the main record ever held, and a shard holds nothing the minute has
   * not counted. From then on beacons go to their session's shard. Any failure is left to the
   * batch's redelivery: every step is a set union, so a repeat adds nothing twice.
   */
  async addBeacons(canonicalId: string, minute: number, beacons: readonly AudienceBeacon[]): Promise<void> {
    const broadcastKey = broadcastKeyOf(canonicalId);
    if (!broadcastKey) throw new RangeError(`not a canonical id: ${canonicalId}`);
    const minuteKey = minuteKeyOf(broadcastKey, minute);
    for (let round = 1; ; round++) {
      let tooBig = false;
      const result = await this.minutes.update(minuteKey, (current) => {
        tooBig = false;
        if (current?.shards !== undefined) return SKIP;
        const next = foldBeacons(current, canonicalId, minute, beacons);
        tooBig = next !== undefined && entriesOf(next) > SHARD_AFTER_ENTRIES;
        return next && !tooBig ? next : SKIP;
      });
      if (result.outcome === 'created' || result.outcome === 'updated') {
        return this.addToTotals(broadcastKey, canonicalId, minuteDelta(result.previous, result.value!));
      }
      const current = result.value;
      if (current?.shards !== undefined) return this.addToShards(broadcastKey, canonicalId, minuteKey, current.shards, minute, beacons);
      // Unchanged and not split: every beacon was already counted, or the minute must be split first.
      if (!tooBig) return;
      if (round > MAX_SPLIT_ROUNDS) throw new KvContentionError(BUCKETS.audienceMinutes, minuteKey, MAX_SPLIT_ROUNDS);
      await this.split(minuteKey, canonicalId, minute, current && result.revision !== undefined ? { key: minuteKey, value: current, revision: result.revision } : null);
    }
  }

  /**
   * Copies a minute's cells into its shards (`entry`, as last read; `null`: absent), then marks
   * it split, if its cells are still the ones copied; else the caller reads it again.
   */
  private async split(minuteKey: string, canonicalId: string, minute: number, entry: TypedKvEntry<AudienceMinute> | null): Promise<void> {
    if (entry) {
      const parts = splitCells(entry.value, SHARD_COUNT);
      await Promise.all([...parts].map(([shard, part]) => this.minutes.update(shardKeyOf(minuteKey, shard), (current) => unionCells(current, part) ?? SKIP)));
    }
    const copied = entry ? entriesOf(entry.value) : 0;
    try {
      // Cells only grow, so as many members as were copied means the same cells: a change of the providers' counts meanwhile
      // costs a read, not a new copy. Anything else (another split, a fold) leaves it to the caller.
      await this.minutes.update(
        minuteKey,
        (current) => {
          if (current?.shards !== undefined || (current ? entriesOf(current) : 0) !== copied) return SKIP;
          return current ? { ...current, cells: [], shards: SHARD_COUNT } : { canonical_id: canonicalId, minute, cells: [], provider_viewers: {}, shards: SHARD_COUNT };
        },
        { assumed: entry },
      );
    } catch (error) {
      if (!(error instanceof KvConflictError)) throw error;
      // Lost every round to other writers: the caller reads it again.
    }
  }

  /**
   * Folds beacons into their sessions' shards of a split minute; the deltas of the shards that
   * were written go to the totals in one write, even when another shard's write failed (its
   * redelivery then adds only that one's).
   */
  private async addToShards(broadcastKey: string, canonicalId: string, minuteKey: string, shards: number, minute: number, beacons: readonly AudienceBeacon[]): Promise<void> {
    const byShard = new Map<number, AudienceBeacon[]>();
    for (const beacon of beacons) {
      const shard = shardOf(beacon.session, shards);
      const list = byShard.get(shard);
      if (list) list.push(beacon);
      else byShard.set(shard, [beacon]);
    }
    const written = await Promise.allSettled(
      [...byShard].map(async ([shard, shardBeacons]) => {
        const result = await this.minutes.update(shardKeyOf(minuteKey, shard), (current) => foldBeacons(current, canonicalId, minute, shardBeacons) ?? SKIP);
        return result.outcome === 'created' || result.outcome === 'updated' ? minuteDelta(result.previous, result.value!) : undefined;
      }),
    );
    const deltas = written.flatMap((outcome) => (outcome.status === 'fulfilled' && outcome.value ? [outcome.value] : []));
    if (deltas.length > 0) await this.addToTotals(broadcastKey, canonicalId, sumDeltas(minute, deltas));
    const failed = written.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async addToTotals(broadcastKey: string, canonicalId: string, delta: MinuteDelta): Promise<void> {
    await this.totals.update(broadcastKey, (current) => addMinuteDelta(current, canonicalId, delta));
  }

  /**
   * Applies `fold` to a broadcast minute's main record by compare-and-set (`fold` returns
   * undefined when it changes nothing): for what that record keeps whether split or not, the
   * providers' counts. What it changes in our cells goes to the totals. Beacons go through
   * `addBeacons`, which splits a big minute.
   */
  async updateMinute(canonicalId: string, minute: number, fold: (current: AudienceMinute | undefined) => AudienceMinute | undefined): Promise<void> {
    const broadcastKey = broadcastKeyOf(canonicalId);
    if (!broadcastKey) throw new RangeError(`not a canonical id: ${canonicalId}`);
    const result = await this.minutes.update(minuteKeyOf(broadcastKey, minute), (current) => fold(current) ?? SKIP);
    if (result.outcome !== 'updated' && result.outcome !== 'created') return;
    if (result.previous !== undefined && sameCells(result.previous, result.value!)) return;
    await this.addToTotals(broadcastKey, canonicalId, minuteDelta(result.previous, result.value!));
  }

  /** Every minute of a broadcast, oldest first; a split minute with its shards' cells put together again. */
  async minutesOf(canonicalId: string): Promise<AudienceMinute[]> {
    const broadcastKey = broadcastKeyOf(canonicalId);
    if (!broadcastKey) return [];
    const keys = (await this.minutes.bucket.keys(`${broadcastKey}.`)).filter((key) => isMinuteKey(broadcastKey, key));
    const found: AudienceMinute[] = [];
    for (let index = 0; index < keys.length; index += READ_CONCURRENCY) {
      const entries = await Promise.all(keys.slice(index, index + READ_CONCURRENCY).map((key) => this.minuteAt(key)));
      for (const entry of entries) if (entry) found.push(entry);
    }
    return found.sort((a, b) => a.minute - b.minute);
  }

  /** A minute record; when split, with its shards' cells. Shards are read by name (a missing one is empty), never by a listing. */
  private async minuteAt(minuteKey: string): Promise<AudienceMinute | undefined> {
    const main = (await this.minutes.get(minuteKey))?.value;
    if (!main?.shards) return main;
    const shards = await Promise.all(Array.from({ length: main.shards }, (_, shard) => this.minutes.get(shardKeyOf(minuteKey, shard))));
    let whole: AudienceMinute = { ...main, cells: [] };
    // The main record's own cells are empty once split; a union keeps this right either way.
    for (const part of [main, ...shards.map((entry) => entry?.value)]) if (part) whole = unionCells(whole, part) ?? whole;
    const { shards: _split, ...minute } = whole;
    return { ...minute, provider_viewers: main.provider_viewers };
  }

  /** The largest record (in bytes, as stored) of a broadcast minute, and how many records it is: main and shards. */
  async minuteRecordSizes(canonicalId: string, minute: number): Promise<{ records: number; largestBytes: number }> {
    const broadcastKey = broadcastKeyOf(canonicalId);
    if (!broadcastKey) return { records: 0, largestBytes: 0 };
    const minuteKey = minuteKeyOf(broadcastKey, minute);
    const keys = [minuteKey, ...Array.from({ length: SHARD_COUNT }, (_, shard) => shardKeyOf(minuteKey, shard))];
    const entries = (await Promise.all(keys.map((key) => this.minutes.bucket.get(key)))).filter((entry) => entry !== undefined);
    return { records: entries.length, largestBytes: Math.max(0, ...entries.map((entry) => entry.value.byteLength)) };
  }

  /** A broadcast's running totals, if any beacon was counted for it. */
  async totalsOf(canonicalId: string): Promise<AudienceTotals | undefined> {
    const broadcastKey = broadcastKeyOf(canonicalId);
    return broadcastKey ? (await this.totals.get(broadcastKey))?.value : undefined;
  }

  /** Calls `onChange` with every broadcast's new totals written anywhere in the fleet from now on. */
  watchTotals(onChange: (totals: AudienceTotals) => void): Promise<Subscription> {
    return this.totals.bucket.watch((event: KvWatchEvent) => {
      if (event.value === undefined) return;
      try {
        onChange(decodeJson(event.value, audienceTotalsSchema));
      } catch {
        // A malformed record is not ours to act on; the next write replaces it.
      }
    });
  }
}

/** Whether only a provider's count changed (our cells did not): the totals need no write. */
function sameCells(previous: AudienceMinute, next: AudienceMinute): boolean {
  return JSON.stringify(previous.cells) === JSON.stringify(next.cells);
}
