/**
 * When to renew a WebSub lease, and how long to wait after a failed subscribe. Pure.
 * YouTube's hub grants leases of up to 10 days; we ask for 5.
 */

export const DEFAULT_WEBSUB_LEASE_SECONDS = 5 * 24 * 60 * 60;
/** A subscribe the hub did not verify within this is sent again. */
export const WEBSUB_PENDING_TIMEOUT_MS = 10 * 60 * 1000;

const MIN_RENEWAL_MARGIN_MS = 60 * 1000;
const MAX_RENEWAL_MARGIN_MS = 24 * 60 * 60 * 1000;
const FIRST_RETRY_MS = 30 * 1000;
const MAX_RETRY_MS = 60 * 60 * 1000;

export interface WebSubLease {
  readonly verified_at_ms: number;
  readonly lease_seconds: number;
}

export function leaseExpiresAtMs(lease: WebSubLease): number {
  return lease.verified_at_ms + lease.lease_seconds * 1000;
}

/**
 * When to send the renewing subscribe: 10 % of the lease before it ends, at least a minute
 * and at most a day before, and never later than half-way through a short lease.
 */
export function leaseRenewAtMs(lease: WebSubLease): number {
  const leaseMs = lease.lease_seconds * 1000;
  const margin = Math.min(Math.max(leaseMs * 0.1, MIN_RENEWAL_MARGIN_MS), MAX_RENEWAL_MARGIN_MS, leaseMs / 2);
  return leaseExpiresAtMs(lease) - margin;
}

/**
 * A lease the hub verified and that has not run out: pushes are expected, polling is not
 * needed. (No lower bound: another process with a clock a little behind may have verified it.)
 */
export function isLeaseFresh(lease: WebSubLease | null | undefined, nowMs: number): boolean {
  return lease != null && nowMs < leaseExpiresAtMs(lease);
}

/** Backoff after `failures` consecutive failed subscribes: 30 s, 1 min, 2 min ... capped at 1 h. */
export function subscribeRetryDelayMs(failures: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
}
