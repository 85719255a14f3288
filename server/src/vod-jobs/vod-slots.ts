import { z } from 'zod';
import { BUCKETS, SKIP, jsonCodec, typedKv, type Bus, type TypedKv } from '../bus/index.js';

/** Per publisher: the broadcasts transcoding for it, each with when its hold lapses unless renewed. */
const slotsSchema = z.object({ holders: z.record(z.string(), z.number()) });
type Slots = z.infer<typeof slotsSchema>;

/**
 * The fleet-wide cap on VOD jobs per publisher (config `VOD_PER_PUBLISHER_LIMIT`): one KV key
 * per publisher in `vod-slots` holding `{ canonical_id: expires_at_ms }`, changed by
 * compare-and-set, so replicas taking jobs at the same moment cannot overshoot. A holder renews
 * its slot with its job's heartbeat; a replica killed mid-job stops renewing and its slot lapses
 * after `ttlMs` (pruned by the next acquire), so a crash never leaks the cap. Chosen over a
 * per-process counter (`InFlightSlots`) because the cap is about one account's share of the
 * whole fleet, not of one replica.
 */
export class VodSlots {
  private constructor(
    private readonly slots: TypedKv<Slots>,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, now: () => number = Date.now): Promise<VodSlots> {
    return new VodSlots(typedKv(await bus.kv(BUCKETS.vodSlots), jsonCodec(slotsSchema), { maxAttempts: 32 }), now);
  }

  /**
   * Takes (or renews) `canonicalId`'s slot among `publisher`'s, for `ttlMs`: true when held,
   * false when `limit` other live holders have theirs.
   */
  async acquire(publisher: string, canonicalId: string, limit: number, ttlMs: number): Promise<boolean> {
    let held = false;
    await this.slots.update(publisher, (current) => {
      const now = this.now();
      const holders = Object.fromEntries(Object.entries(current?.holders ?? {}).filter(([id, expiresAt]) => expiresAt > now && id !== canonicalId));
      held = Object.keys(holders).length < limit;
      if (!held) return current && Object.keys(holders).length === Object.keys(current.holders).length ? SKIP : { holders };
      return { holders: { ...holders, [canonicalId]: now + ttlMs } };
    });
    return held;
  }

  /** Gives `canonicalId`'s slot back (nothing happens when it holds none). */
  async release(publisher: string, canonicalId: string): Promise<void> {
    await this.slots.update(publisher, (current) => {
      if (!current || !(canonicalId in current.holders)) return SKIP;
      const { [canonicalId]: _released, ...holders } = current.holders;
      return Object.keys(holders).length === 0 ? undefined : { holders };
    });
  }

  /** The broadcasts holding a live slot of `publisher` now. */
  async holders(publisher: string): Promise<string[]> {
    const entry = await this.slots.get(publisher);
    const now = this.now();
    return Object.entries(entry?.value.holders ?? {})
      .filter(([, expiresAt]) => expiresAt > now)
      .map(([id]) => id);
  }
}
