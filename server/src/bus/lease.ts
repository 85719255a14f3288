import type { Bus, Subscription } from './bus.js';
import { silentBusLogger, type BusLogger } from './bus-logger.js';
import { decodeJson, encodeJson } from './json.js';
import {
  DEFAULT_LEASE_MAX_CLOCK_SKEW_MS,
  decideLease,
  defaultLeaseHolder,
  leaseRecordSchema,
  type LeaseAction,
  type LeaseRecord,
} from './lease-decision.js';
import { BUCKETS } from './subjects.js';
import { KvContentionError, SKIP, typedKv, type KvCodec, type TypedKv } from './typed-kv.js';

export interface BusLeaseOptions {
  /** What is leased: the key in the `leases` bucket (`youtube-poller`, `bluesky-jetstream`). */
  readonly key: string;
  /** This process in the lease; default `{host}/{pid}/{ulid}`. */
  readonly holder?: string;
  /** How long a lease lasts without renewal: with the skew, the longest the fleet goes without a holder when one dies. */
  readonly leaseMs: number;
  /**
   * How far apart the fleet's clocks may be (default 5 s); it also covers a holder that stops
   * late (its step-down timer firing late on a loaded machine).
   */
  readonly maxClockSkewMs?: number;
  /** The clock decisions are made by (tests move it); timers run on real time. */
  readonly now?: () => number;
  /** `start()` renews (or, standing by, tries to take) the lease this often; default a third of `leaseMs`. */
  readonly renewEveryMs?: number;
  /**
   * Called, one call at a time and awaited, when this process starts (`true`) or stops
   * (`false`) holding the lease while `start()`ed: start the leased work, or stop it. A `true`
   * that throws gives the lease back (after an `onChange(false)` to undo), so another process,
   * or this one at a later round, tries.
   */
  readonly onChange?: (held: boolean) => Promise<void> | void;
  readonly logger?: BusLogger;
}

/**
 * A lease on the bus: work that one process of a fleet does at a time (polling YouTube,
 * reading Jetstream), held by compare-and-set on one key of the `leases` KV bucket. Every
 * process may run it; the holder renews its lease before it runs out, a stopped holder gives
 * it back (the others, watching the key, take it at once), and a dead one is taken over once
 * its expiry plus the clock skew has passed (`decideLease`).
 *
 * Two ways to use it: `hold()` before each round of work (the YouTube poller, whose rounds
 * are already on a timer), or `start()` with `onChange` for work that runs continuously (a
 * Jetstream connection). A holder that cannot renew (the bus is unreachable) steps down when
 * its own lease runs out by its clock: the others take over no earlier, by theirs.
 */
export class BusLease {
  readonly holder: string;
  readonly key: string;
  private readonly now: () => number;
  private readonly logger: BusLogger;
  private held = false;
  /** The expiry this process last wrote: past it, a holder that could not renew steps down. */
  private heldUntilMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private round: Promise<void> | undefined;
  private watch: Subscription | undefined;
  private running = false;
  /** What `onChange` was last told (it is told only changes). */
  private announced = false;
  /** `onChange` calls, one after another (never rejects). */
  private announcing: Promise<void> = Promise.resolve();
  /** Fires when the lease we hold runs out: a round stuck on an unanswered request must not keep us working past it. */
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    private readonly leases: TypedKv<LeaseRecord | null>,
    private readonly bus: Bus,
    private readonly options: BusLeaseOptions,
  ) {
    if (!(options.leaseMs > 0)) throw new RangeError('leaseMs must be positive');
    if (options.renewEveryMs !== undefined && !(options.renewEveryMs > 0 && options.renewEveryMs < options.leaseMs)) {
      throw new RangeError('renewEveryMs must be positive and shorter than leaseMs');
    }
    this.key = options.key;
    this.holder = options.holder ?? defaultLeaseHolder();
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentBusLogger;
  }

  static async open(bus: Bus, options: BusLeaseOptions): Promise<BusLease> {
    return new BusLease(typedKv(await bus.kv(BUCKETS.leases), leaseCodec), bus, options);
  }

  /** True while this process held the lease at its last `hold()`. */
  get isHolder(): boolean {
    return this.held;
  }

  /**
   * Takes, renews or takes over the lease when the decision says so, and answers what it did
   * (`isHolder` then says whether we hold it). A lost compare-and-set is decided again once,
   * on a fresh read (a stale read, or our own write whose ack was lost, then costs no
   * handover); lost twice (`lost-race`), another process moved first: we do not hold it. A
   * failed read or write (the bus unreachable) throws; we still hold the lease until our last
   * expiry, not after.
   */
  async hold(): Promise<LeaseAction | 'lost-race'> {
    let decided: LeaseAction | undefined;
    let written: LeaseRecord | undefined;
    try {
      await this.leases.update(
        this.key,
        (current) => {
          const decision = decideLease({
            current: current ?? undefined,
            me: this.holder,
            nowMs: this.now(),
            leaseMs: this.options.leaseMs,
            maxClockSkewMs: this.options.maxClockSkewMs ?? DEFAULT_LEASE_MAX_CLOCK_SKEW_MS,
          });
          decided = decision.action;
          written = decision.action === 'wait' ? undefined : decision.lease;
          return written ?? SKIP;
        },
        { maxAttempts: 2 },
      );
    } catch (error) {
      // A lost race: another process wrote the lease, we do not hold it. A failed read or write
      // (the bus unreachable, a stream electing its leader) proves nothing: nobody may take the
      // lease before our last expiry, so we hold it until then and not after.
      if (error instanceof KvContentionError) {
        this.held = false;
        return 'lost-race';
      }
      if (this.now() >= this.heldUntilMs) this.held = false;
      throw error;
    }
    this.held = written !== undefined;
    if (written) this.heldUntilMs = Date.parse(written.expires_at);
    return decided!;
  }

  /** Gives the lease up if we hold it, so another process takes over at once (or at its next round). */
  async release(): Promise<void> {
    this.held = false;
    this.heldUntilMs = 0;
    // Not a compare-and-set (the bus deletes unconditionally): between the read and the delete
    // only an expired lease of ours can change hands; then the taker's next renew recreates it.
    await this.leases.update(this.key, (current) => (current?.holder === this.holder ? undefined : SKIP), { maxAttempts: 1 });
  }

  /**
   * Holds the lease from now on: a round now (resolved once it is done, so the caller knows
   * whether this process holds it), then one every `renewEveryMs`, and one as soon as the key
   * is deleted (a holder that stopped), with `onChange` told each change.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.watch = await (await this.bus.kv(BUCKETS.leases)).watch((event) => {
        if (event.key === this.key && event.value === undefined && this.running && !this.held) this.schedule(0);
      });
    } catch (error) {
      // Without the watch a released lease is taken at the next round instead of at once.
      this.logger.warn({ lease: this.key, err: describe(error) }, 'lease watch not started; takeovers wait for the next round');
    }
    await this.kick();
  }

  /** Stops holding: no more rounds, `onChange(false)` if the work runs, then the lease given back. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.watch?.unsubscribe();
    this.watch = undefined;
    await this.round;
    await this.settle('stopped');
    if (this.held) {
      await this.release().catch((error: unknown) => this.logger.warn({ lease: this.key, err: describe(error) }, 'lease not released; the others take over when it expires'));
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.kick();
    }, delayMs);
    this.timer.unref();
  }

  /** Runs a round after the one in flight (rounds never overlap), then schedules the next. */
  private kick(): Promise<void> {
    const next = Promise.resolve(this.round)
      .then(() => this.runRound())
      .finally(() => {
        if (this.round === next) this.round = undefined;
        if (this.running && !this.timer) this.schedule(this.options.renewEveryMs ?? Math.floor(this.options.leaseMs / 3));
      });
    this.round = next;
    return next;
  }

  private async runRound(): Promise<void> {
    if (!this.running) return;
    let outcome: LeaseAction | 'lost-race' | 'unreachable';
    if (!this.bus.isReady()) {
      // Reconnecting: a read would wait out its timeout, while our lease may be running out.
      outcome = 'unreachable';
      if (this.now() >= this.heldUntilMs) this.held = false;
    } else {
      try {
        outcome = await this.hold();
      } catch (error) {
        outcome = 'unreachable';
        this.logger.warn({ lease: this.key, held: this.held, err: describe(error) }, 'lease not renewed');
      }
    }
    if (!this.running) return;
    if (this.held) this.watchExpiry();
    await this.settle(outcome);
  }

  /** Steps down when the lease we hold runs out without a renewal (unless a renewal lands first). */
  private watchExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      if (!this.running || !this.held) return;
      if (this.now() < this.heldUntilMs) {
        this.watchExpiry();
        return;
      }
      this.held = false;
      void this.settle('expired');
    }, Math.max(0, this.heldUntilMs - this.now()));
    this.expiryTimer.unref();
  }

  /**
   * Brings the work in line with the lease: `onChange` told whether we hold it now (read when
   * the call's turn comes, so a queued call never acts on an old state), one call at a time.
   * Work that fails to start gives the lease back. Never rejects.
   */
  private settle(outcome: string): Promise<void> {
    const settled = this.announcing.then(async () => {
      const held = this.running && this.held;
      if (held === this.announced) return;
      this.announced = held;
      if (held) {
        this.logger.info({ lease: this.key, holder: this.holder, outcome }, 'lease taken: this process does the work');
        try {
          await this.options.onChange?.(true);
        } catch (error) {
          this.logger.warn({ lease: this.key, err: describe(error) }, 'leased work did not start; lease given back');
          this.announced = false;
          await Promise.resolve(this.options.onChange?.(false)).catch(() => undefined);
          await this.release().catch(() => undefined);
        }
        return;
      }
      if (this.running) this.logger.info({ lease: this.key, outcome }, 'lease lost: another process may do the work');
      try {
        await this.options.onChange?.(false);
      } catch (error) {
        this.logger.warn({ lease: this.key, err: describe(error) }, 'leased work did not stop cleanly');
      }
    });
    this.announcing = settled;
    return settled;
  }
}

/** The stored lease; an unreadable value reads as null, a free lease overwritten at its revision. */
const leaseCodec: KvCodec<LeaseRecord | null> = {
  encode: (lease) => encodeJson(lease),
  decode: (data) => {
    if (data.length === 0) return null;
    try {
      return decodeJson(data, leaseRecordSchema);
    } catch {
      return null;
    }
  },
};

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
