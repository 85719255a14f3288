import { hostname } from 'node:os';
import { ulid } from 'ulid';
import { z } from 'zod';
import { BUCKETS, KvContentionError, SKIP, decodeJson, encodeJson, typedKv, type Bus, type KvCodec, type TypedKv } from '../../bus/index.js';

/**
 * Who in a fleet ticks YouTube (WebSub reconcile and polling): one lease in KV, taken and
 * renewed with compare-and-set. Every process may hold `YOUTUBE_POLL` on; only the holder
 * of a fresh lease ticks and spends the Data API quota. A stopped process releases the lease;
 * a dead one is taken over once its lease expired (plus the tolerated clock skew).
 */

/** The key in the `leases` bucket. */
export const YOUTUBE_POLLER_LEASE_KEY = 'youtube-poller';
/** How far apart two processes' clocks may be and the lease still work. */
export const DEFAULT_POLL_LEASE_MAX_CLOCK_SKEW_MS = 5_000;

export const pollLeaseSchema = z.strictObject({
  /** The process holding the lease (host, pid and a per-start id). */
  holder: z.string().min(1).max(300),
  expires_at: z.iso.datetime(),
});
export type PollLease = z.infer<typeof pollLeaseSchema>;

export type PollLeaseDecision =
  /** Nobody holds it: create it. */
  | { readonly action: 'acquire'; readonly lease: PollLease }
  /** We hold it: push the expiry out (even if it ran out: nobody has taken it). */
  | { readonly action: 'renew'; readonly lease: PollLease }
  /** Another holder's lease expired (or claims an expiry no honest clock would): take it. */
  | { readonly action: 'take-over'; readonly lease: PollLease; readonly from: string }
  /** Another holder's lease is fresh: do not tick. */
  | { readonly action: 'wait'; readonly holder: string; readonly expiresAtMs: number };

export interface PollLeaseInput {
  readonly current: PollLease | undefined;
  readonly me: string;
  readonly nowMs: number;
  readonly leaseMs: number;
  readonly maxClockSkewMs: number;
}

/**
 * The lease decision, pure. Another holder's lease counts as expired only `maxClockSkewMs`
 * after its `expires_at` by our clock (its clock may run behind ours). An `expires_at` further
 * ahead than one lease plus the skew was written by a clock beyond the bound (or by hand): it
 * would block the fleet for as long, so it is taken over too.
 */
export function decidePollLease(input: PollLeaseInput): PollLeaseDecision {
  const { current, me, nowMs, leaseMs, maxClockSkewMs } = input;
  const lease: PollLease = { holder: me, expires_at: new Date(nowMs + leaseMs).toISOString() };
  if (!current) return { action: 'acquire', lease };
  if (current.holder === me) return { action: 'renew', lease };
  const expiresAtMs = Date.parse(current.expires_at);
  const expired = expiresAtMs + maxClockSkewMs <= nowMs;
  const implausible = expiresAtMs > nowMs + leaseMs + maxClockSkewMs;
  if (expired || implausible) return { action: 'take-over', lease, from: current.holder };
  return { action: 'wait', holder: current.holder, expiresAtMs };
}

/** A holder id unique per process start: `{host}/{pid}/{ulid}`. */
export function defaultPollLeaseHolder(): string {
  return `${hostname().slice(0, 200)}/${process.pid}/${ulid()}`;
}

export interface PollLeaseHolderOptions {
  readonly holder?: string;
  /** How long a lease lasts without renewal: the longest the fleet goes without a poller. */
  readonly leaseMs: number;
  readonly maxClockSkewMs?: number;
  readonly now?: () => number;
}

/** One process's side of the lease: `hold()` before each tick, `release()` at stop. */
export class PollLeaseHolder {
  readonly holder: string;
  private readonly now: () => number;
  private held = false;

  private constructor(
    private readonly leases: TypedKv<PollLease | null>,
    private readonly options: PollLeaseHolderOptions,
  ) {
    if (!(options.leaseMs > 0)) throw new RangeError('leaseMs must be positive');
    this.holder = options.holder ?? defaultPollLeaseHolder();
    this.now = options.now ?? Date.now;
  }

  static async open(bus: Bus, options: PollLeaseHolderOptions): Promise<PollLeaseHolder> {
    return new PollLeaseHolder(typedKv(await bus.kv(BUCKETS.leases), leaseCodec), options);
  }

  /** True while this process held the lease at its last `hold()`. */
  get isHolder(): boolean {
    return this.held;
  }

  /**
   * Takes, renews or takes over the lease when the decision says so, and answers what it did
   * (`isHolder` then says whether we hold it). A lost compare-and-set (`lost-race`) means
   * another process moved first: we do not hold it.
   */
  async hold(): Promise<PollLeaseDecision['action'] | 'lost-race'> {
    let decided: PollLeaseDecision['action'] | undefined;
    try {
      // One attempt: a lost race is an answer here, not something to retry.
      await this.leases.update(
        YOUTUBE_POLLER_LEASE_KEY,
        (current) => {
          const decision = decidePollLease({
            current: current ?? undefined,
            me: this.holder,
            nowMs: this.now(),
            leaseMs: this.options.leaseMs,
            maxClockSkewMs: this.options.maxClockSkewMs ?? DEFAULT_POLL_LEASE_MAX_CLOCK_SKEW_MS,
          });
          decided = decision.action;
          return decision.action === 'wait' ? SKIP : decision.lease;
        },
        { maxAttempts: 1 },
      );
    } catch (error) {
      // A failed read leaves `isHolder` as it was; a failed or lost write means we do not hold it.
      if (decided !== undefined) this.held = false;
      if (error instanceof KvContentionError) return 'lost-race';
      throw error;
    }
    this.held = decided !== 'wait';
    return decided!;
  }

  /** Gives the lease up if we hold it, so another process takes over at its next tick. */
  async release(): Promise<void> {
    this.held = false;
    // Not a compare-and-set (the bus deletes unconditionally): between the read and the delete
    // only an expired lease of ours can change hands; then the taker's next renew recreates it.
    await this.leases.update(YOUTUBE_POLLER_LEASE_KEY, (current) => (current?.holder === this.holder ? undefined : SKIP), { maxAttempts: 1 });
  }
}

/** The stored lease; an unreadable value reads as null, a free lease overwritten at its revision. */
const leaseCodec: KvCodec<PollLease | null> = {
  encode: (lease) => encodeJson(lease),
  decode: (data) => {
    if (data.length === 0) return null;
    try {
      return decodeJson(data, pollLeaseSchema);
    } catch {
      return null;
    }
  },
};
