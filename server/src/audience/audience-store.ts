import { BUCKETS, SKIP, jsonCodec, typedKv, type Bus, type KvConflictCounter, type KvWatchEvent, type Subscription, type TypedKv } from '../bus/index.js';
import { decodeJson } from '../bus/index.js';
import { audienceMinuteSchema, broadcastKeyOf, minuteKeyOf, type AudienceMinute } from './audience-minute.js';
import { addMinuteDelta, audienceTotalsSchema, minuteDelta, type AudienceTotals } from './audience-totals.js';

/** How long a broadcast's audience numbers are kept. */
export const AUDIENCE_TTL_MS = 90 * 24 * 60 * 60 * 1000;

/** Minutes read at once when a broadcast's report is assembled. */
const READ_CONCURRENCY = 32;

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
   * Applies `fold` to a broadcast's minute by compare-and-set (`fold` returns undefined when it
   * changes nothing), then adds what changed to the broadcast's totals.
   */
  async updateMinute(canonicalId: string, minute: number, fold: (current: AudienceMinute | undefined) => AudienceMinute | undefined): Promise<void> {
    const broadcastKey = broadcastKeyOf(canonicalId);
    if (!broadcastKey) throw new RangeError(`not a canonical id: ${canonicalId}`);
    let previous: AudienceMinute | undefined;
    const result = await this.minutes.update(minuteKeyOf(broadcastKey, minute), (current) => {
      previous = current;
      return fold(current) ?? SKIP;
    });
    if (result.outcome !== 'updated' && result.outcome !== 'created') return;
    const delta = minuteDelta(previous, result.value!);
    if (previous !== undefined && sameCells(previous, result.value!)) return;
    await this.totals.update(broadcastKey, (current) => addMinuteDelta(current, canonicalId, delta));
  }

  /** Every minute of a broadcast, oldest first. */
  async minutesOf(canonicalId: string): Promise<AudienceMinute[]> {
    const broadcastKey = broadcastKeyOf(canonicalId);
    if (!broadcastKey) return [];
    const keys = await this.minutes.bucket.keys(`${broadcastKey}.`);
    const found: AudienceMinute[] = [];
    for (let index = 0; index < keys.length; index += READ_CONCURRENCY) {
      const entries = await Promise.all(keys.slice(index, index + READ_CONCURRENCY).map((key) => this.minutes.get(key)));
      for (const entry of entries) if (entry) found.push(entry.value);
    }
    return found.sort((a, b) => a.minute - b.minute);
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
