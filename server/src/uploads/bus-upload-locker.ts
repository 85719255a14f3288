import { hostname } from 'node:os';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/server';
import { ulid } from 'ulid';
import { z } from 'zod';
import { BUCKETS, KvContentionError, SKIP, jsonCodec, typedKv, type Bus, type KvWatchEvent, type Subscription, type TypedKv } from '../bus/index.js';
import type { Logger } from '../observability/index.js';
import type { UploadLockEvents } from './upload-lock-metric.js';

/**
 * The tus upload lock shared by every replica of a fleet: one KV key per upload id in the
 * `upload-locks` bucket, taken with compare-and-set. `@tus/server` locks every request on an
 * upload (POST, HEAD, PATCH, DELETE) and its default `MemoryLocker` only excludes requests
 * of one process: two replicas could append to one upload at once. The semantics are the
 * MemoryLocker's: a request that finds the lock held asks the holder to let go (tus then ends
 * the holder's request after its drain delay, so a client that lost its connection and
 * resumed is not blocked by its own half-open PATCH) and waits up to `acquireTimeoutMs`, then
 * fails with tus's lock timeout. Across processes the request to let go is a flag on the key
 * (the holder hears it through a KV watch, or at its next renewal at the latest), and the lock
 * is a lease: renewed while held, so the lock of a process that died is taken over once its
 * lease ran out (plus the tolerated clock skew). The bucket's TTL removes keys nobody renews.
 */

/** The lease a holder writes: who holds it (one token per lock, so two requests of one process exclude each other too). */
export const uploadLockSchema = z.strictObject({
  token: z.string().min(1).max(300),
  expires_at_ms: z.number().int().nonnegative(),
  /** Another request wants the lock: the holder's request should finish and unlock. */
  release_requested: z.boolean(),
});
export type UploadLock = z.infer<typeof uploadLockSchema>;

/** Keys nobody renewed for this long go (a crashed holder's): the bucket's TTL, one value for every replica. */
export const UPLOAD_LOCK_BUCKET_TTL_MS = 60_000;

export const DEFAULT_UPLOAD_LOCK_LEASE_MS = 10_000;
/** As `MemoryLocker`'s default. */
export const DEFAULT_UPLOAD_LOCK_ACQUIRE_TIMEOUT_MS = 30_000;
/** How far apart two replicas' clocks may be and a live holder's lease still be respected. */
export const DEFAULT_UPLOAD_LOCK_MAX_CLOCK_SKEW_MS = 2_000;
/** A waiter re-reads the key this often when no watch event woke it first. */
const DEFAULT_POLL_MS = 250;

export type UploadLockDecision =
  /** Free: take it. */
  | { readonly action: 'acquire'; readonly lock: UploadLock }
  /** The holder's lease ran out (it died or lost the bus): take it over. */
  | { readonly action: 'take-over'; readonly lock: UploadLock; readonly from: string }
  /** Held and nobody asked yet: ask the holder to let go. */
  | { readonly action: 'request-release'; readonly lock: UploadLock }
  /** Held, release already asked: wait. */
  | { readonly action: 'wait' };

/** What a request that wants the lock does about what the key holds, pure. */
export function decideUploadLock(input: {
  readonly current: UploadLock | undefined;
  readonly token: string;
  readonly nowMs: number;
  readonly leaseMs: number;
  readonly maxClockSkewMs: number;
}): UploadLockDecision {
  const { current, token, nowMs, leaseMs, maxClockSkewMs } = input;
  const lock: UploadLock = { token, expires_at_ms: nowMs + leaseMs, release_requested: false };
  if (!current) return { action: 'acquire', lock };
  // An expiry further ahead than a lease and the skew was written by a clock beyond the bound: it would block the upload as long.
  const expired = current.expires_at_ms + maxClockSkewMs <= nowMs || current.expires_at_ms > nowMs + leaseMs + maxClockSkewMs;
  if (expired) return { action: 'take-over', lock, from: current.token };
  if (!current.release_requested) return { action: 'request-release', lock: { ...current, release_requested: true } };
  return { action: 'wait' };
}

export interface BusUploadLockerOptions {
  /** How long a lock lasts without renewal; holders renew every third of it. At most a third of the bucket TTL. */
  readonly leaseMs?: number;
  /** A request waits this long for a held lock, then fails with tus's lock timeout. */
  readonly acquireTimeoutMs?: number;
  readonly maxClockSkewMs?: number;
  /** Waiters re-read the key this often when no watch event came. */
  readonly pollMs?: number;
  /** Names this process in the lock tokens (default `{host}/{pid}`). */
  readonly processName?: string;
  readonly logger?: Logger;
  /** Counts timeouts, release requests, take-overs and lost renewals (`uploadLockEvents(registry)`). */
  readonly events?: UploadLockEvents;
  readonly now?: () => number;
}

/** What this process holds: per upload id, the lock and how to end the request holding it. */
interface HeldLock {
  readonly token: string;
  readonly requestRelease: RequestRelease;
  releaseAsked: boolean;
  timer: ReturnType<typeof setInterval> | undefined;
  /** Our clock's end of the lease as last written: past half of it without a renewal, the request ends. */
  expiresAtMs: number;
  /** A renewal is on its way (one at a time: a hanging bus must not pile them up). */
  renewing: boolean;
}

/** The `Locker` to give `@tus/server` in a fleet (`TusEndpointOptions.locker`). One per process; `close()` at stop. */
export class BusUploadLocker implements Locker {
  readonly leaseMs: number;
  readonly acquireTimeoutMs: number;
  private readonly maxClockSkewMs: number;
  private readonly pollMs: number;
  private readonly processName: string;
  private readonly now: () => number;
  private readonly held = new Map<string, HeldLock>();
  /** Per upload id: the waiters to wake when its key changes. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private watch: Subscription | undefined;
  private closed = false;

  private constructor(
    private readonly locks: TypedKv<UploadLock>,
    private readonly options: BusUploadLockerOptions,
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_UPLOAD_LOCK_LEASE_MS;
    if (!(this.leaseMs > 0) || this.leaseMs * 3 > UPLOAD_LOCK_BUCKET_TTL_MS) {
      throw new RangeError(`leaseMs must be positive and at most a third of ${UPLOAD_LOCK_BUCKET_TTL_MS} ms, got ${this.leaseMs}`);
    }
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? DEFAULT_UPLOAD_LOCK_ACQUIRE_TIMEOUT_MS;
    this.maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_UPLOAD_LOCK_MAX_CLOCK_SKEW_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.processName = options.processName ?? `${hostname().slice(0, 200)}/${process.pid}`;
    this.now = options.now ?? Date.now;
  }

  static async open(bus: Bus, options: BusUploadLockerOptions = {}): Promise<BusUploadLocker> {
    const bucket = await bus.kv(BUCKETS.uploadLocks, { ttlMs: UPLOAD_LOCK_BUCKET_TTL_MS });
    const locker = new BusUploadLocker(typedKv(bucket, jsonCodec(uploadLockSchema)), options);
    locker.watch = await bucket.watch((event) => locker.onChange(event));
    return locker;
  }

  newLock(id: string): Lock {
    const token = `${this.processName}/${ulid()}`;
    return {
      lock: (signal, requestRelease) => this.acquire(id, token, signal, requestRelease),
      unlock: () => this.release(id, token),
    };
  }

  /** Upload ids whose lock this process holds (for tests and logs). */
  heldUploadIds(): string[] {
    return [...this.held.keys()];
  }

  /** Requests of this process waiting for a lock (for tests and logs). */
  waitingRequests(): number {
    let waiting = 0;
    for (const set of this.waiters.values()) waiting += set.size;
    return waiting;
  }

  /** Stops renewing and watching. Locks still held are left to expire (as a crash would leave them): HTTP drains before this. */
  close(): void {
    this.closed = true;
    this.watch?.unsubscribe();
    this.watch = undefined;
    for (const held of this.held.values()) if (held.timer) clearInterval(held.timer);
    this.held.clear();
    for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake();
  }

  private async acquire(id: string, token: string, signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const deadline = this.now() + this.acquireTimeoutMs;
    for (;;) {
      if (signal.aborted || this.closed || this.now() >= deadline) {
        if (!signal.aborted && !this.closed) this.options.events?.inc({ event: 'timeout' });
        throw ERRORS.ERR_LOCK_TIMEOUT;
      }
      let decision: UploadLockDecision | undefined;
      try {
        await this.locks.update(
          id,
          (current) => {
            decision = decideUploadLock({ current, token, nowMs: this.now(), leaseMs: this.leaseMs, maxClockSkewMs: this.maxClockSkewMs });
            return decision.action === 'wait' ? SKIP : decision.lock;
          },
          { maxAttempts: 1 },
        );
      } catch (error) {
        // Another request moved first: look again.
        if (!(error instanceof KvContentionError)) throw error;
        decision = undefined;
      }
      if (decision?.action === 'acquire' || decision?.action === 'take-over') {
        if (decision.action === 'take-over') {
          this.options.logger?.warn({ upload_id: id, from: decision.from }, 'took over an upload lock whose lease ran out');
          this.options.events?.inc({ event: 'take_over' });
        }
        this.hold(id, token, requestRelease);
        return;
      }
      if (decision?.action === 'request-release') this.options.events?.inc({ event: 'release_requested' });
      await this.changeOf(id, Math.min(this.pollMs, deadline - this.now()), signal);
    }
  }

  private hold(id: string, token: string, requestRelease: RequestRelease): void {
    // Our own lease of this id ran out unrenewed and another request here took it over: the old request ends.
    const previous = this.held.get(id);
    if (previous?.timer) clearInterval(previous.timer);
    if (previous) this.askToRelease(previous);
    const held: HeldLock = { token, requestRelease, releaseAsked: false, timer: undefined, expiresAtMs: this.now() + this.leaseMs, renewing: false };
    held.timer = setInterval(() => {
      // Renewals land every third of the lease; one that has not for half of it is failing or hanging (a bus cut off).
      if (this.now() >= held.expiresAtMs - this.leaseMs / 2) this.endangered(id, held);
      if (held.renewing) return;
      held.renewing = true;
      void this.renew(id, held).finally(() => {
        held.renewing = false;
      });
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    held.timer.unref();
    this.held.set(id, held);
  }

  /** Pushes the lease out; a key that is no longer ours (taken over while we could not renew) ends our request. */
  private async renew(id: string, held: HeldLock): Promise<void> {
    let lost = false;
    let asked = false;
    let writtenExpiryMs = held.expiresAtMs;
    try {
      await this.locks.update(
        id,
        (current) => {
          lost = current?.token !== held.token;
          if (lost) return SKIP;
          asked = current!.release_requested;
          writtenExpiryMs = this.now() + this.leaseMs;
          return { ...current!, expires_at_ms: writtenExpiryMs };
        },
        { maxAttempts: 3 },
      );
    } catch (error) {
      // A lease we cannot renew will be taken over once it ran out: the request holding it stops
      // first (tus ends it after its drain delay), so that two replicas never write one upload.
      this.options.logger?.warn({ err: error, upload_id: id }, 'could not renew an upload lock');
      if (this.now() >= held.expiresAtMs - this.leaseMs / 2) this.endangered(id, held);
      return;
    }
    if (!lost) held.expiresAtMs = writtenExpiryMs;
    if (this.held.get(id) !== held) return;
    if (lost) {
      this.options.logger?.warn({ upload_id: id }, 'an upload lock was taken over while held; its request ends');
      if (held.timer) clearInterval(held.timer);
      this.held.delete(id);
    }
    if (lost || asked) this.askToRelease(held);
  }

  private async release(id: string, token: string): Promise<void> {
    const held = this.held.get(id);
    if (held?.token !== token) throw new Error(`releasing an upload lock not held: ${id}`);
    if (held.timer) clearInterval(held.timer);
    this.held.delete(id);
    try {
      // Not a compare-and-delete (the bus has none): between the read and the delete only an
      // expired lease of ours can change hands, and its taker's renewal recreates the key.
      await this.locks.update(id, (current) => (current?.token === token ? undefined : SKIP), { maxAttempts: 3 });
    } catch (error) {
      // The request's work is done; the lease ends on its own.
      this.options.logger?.warn({ err: error, upload_id: id }, 'could not release an upload lock; it expires with its lease');
    }
  }

  /** The lease may run out unrenewed: the request holding it ends now, before another replica may take the lock over. */
  private endangered(id: string, held: HeldLock): void {
    if (held.releaseAsked) return;
    this.options.logger?.warn({ upload_id: id }, 'an upload lock could not be renewed for half its lease; its request ends');
    this.options.events?.inc({ event: 'renewal_lost' });
    this.askToRelease(held);
  }

  private askToRelease(held: HeldLock): void {
    if (held.releaseAsked) return;
    held.releaseAsked = true;
    Promise.resolve(held.requestRelease()).catch((error: unknown) => this.options.logger?.warn({ err: error }, 'releasing an upload lock on request failed'));
  }

  private onChange(event: KvWatchEvent): void {
    for (const wake of this.waiters.get(event.key) ?? []) wake();
    const held = this.held.get(event.key);
    if (!held || !event.value) return;
    let lock: UploadLock;
    try {
      lock = jsonCodec(uploadLockSchema).decode(event.value);
    } catch {
      return;
    }
    if (lock.token === held.token && lock.release_requested) this.askToRelease(held);
  }

  /** Resolves when the key of `id` changes, after `ms`, or on abort, whichever comes first. */
  private changeOf(id: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.waiters.get(id);
      if (!waiters) this.waiters.set(id, (waiters = new Set()));
      const set = waiters;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }
}
