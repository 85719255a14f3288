import { hostname } from 'node:os';
import { ulid } from 'ulid';
import { z } from 'zod';

/**
 * The rule of a lease on the bus, pure: who may hold it after reading the stored record.
 * A record names its holder and an expiry; the holder renews it before it runs out, a stopped
 * holder deletes it, and a dead one is taken over once its expiry plus the tolerated clock
 * skew has passed by the taker's clock.
 */

/** How far apart two processes' clocks may be and a lease still work. */
export const DEFAULT_LEASE_MAX_CLOCK_SKEW_MS = 5_000;

export const leaseRecordSchema = z.strictObject({
  /** The process holding the lease (host, pid and a per-start id). */
  holder: z.string().min(1).max(300),
  expires_at: z.iso.datetime(),
});
export type LeaseRecord = z.infer<typeof leaseRecordSchema>;

export type LeaseDecision =
  /** Nobody holds it: create it. */
  | { readonly action: 'acquire'; readonly lease: LeaseRecord }
  /** We hold it: push the expiry out (even if it ran out: nobody has taken it). */
  | { readonly action: 'renew'; readonly lease: LeaseRecord }
  /** Another holder's lease expired (or claims an expiry no honest clock would): take it. */
  | { readonly action: 'take-over'; readonly lease: LeaseRecord; readonly from: string }
  /** Another holder's lease is fresh: stand by. */
  | { readonly action: 'wait'; readonly holder: string; readonly expiresAtMs: number };

export type LeaseAction = LeaseDecision['action'];

export interface LeaseDecisionInput {
  readonly current: LeaseRecord | undefined;
  readonly me: string;
  readonly nowMs: number;
  readonly leaseMs: number;
  readonly maxClockSkewMs: number;
}

/**
 * Another holder's lease counts as expired only `maxClockSkewMs` after its `expires_at` by our
 * clock (its clock may run behind ours). An `expires_at` further ahead than one lease plus the
 * skew was written by a clock beyond the bound (or by hand): it would block the fleet for as
 * long, so it is taken over too.
 */
export function decideLease(input: LeaseDecisionInput): LeaseDecision {
  const { current, me, nowMs, leaseMs, maxClockSkewMs } = input;
  const lease: LeaseRecord = { holder: me, expires_at: new Date(nowMs + leaseMs).toISOString() };
  if (!current) return { action: 'acquire', lease };
  if (current.holder === me) return { action: 'renew', lease };
  const expiresAtMs = Date.parse(current.expires_at);
  const expired = expiresAtMs + maxClockSkewMs <= nowMs;
  const implausible = expiresAtMs > nowMs + leaseMs + maxClockSkewMs;
  if (expired || implausible) return { action: 'take-over', lease, from: current.holder };
  return { action: 'wait', holder: current.holder, expiresAtMs };
}

/** A holder id unique per process start: `{host}/{pid}/{ulid}`. */
export function defaultLeaseHolder(): string {
  return `${hostname().slice(0, 200)}/${process.pid}/${ulid()}`;
}
