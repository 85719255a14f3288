import { BUCKETS, KvContentionError, SKIP, decodeJson, encodeJson, typedKv, type Bus, type KvBucket, type KvCodec, type KvUpdateResult, type KvWatchEvent, type Subscription, type TypedKv } from '../../bus/index.js';
import type { Logger } from '../../observability/index.js';
import {
  DEFAULT_QUOTA_RESERVATION_UNITS,
  DEFAULT_YOUTUBE_DAILY_QUOTA_UNITS,
  dayKeyOfLedgerKey,
  decideQuotaReservation,
  exhaustQuotaLedger,
  nextPacificMidnightMs,
  pacificDayKey,
  quotaLedgerKey,
  quotaLedgerSchema,
  releaseQuotaUnits,
  type QuotaLedger,
  type QuotaRefusalReason,
} from './quota-ledger.js';

/** Ledger entries outlive their day by this much, for operators to look back; then they expire. */
const LEDGER_TTL_MS = 3 * 24 * 60 * 60 * 1000;
/** Lost compare-and-sets in a row before a reservation gives up (fails closed). */
const MAX_LEDGER_ATTEMPTS = 32;

export interface QuotaSnapshot {
  readonly dayKey: string;
  /** The Google Cloud project's daily limit: the whole fleet's. */
  readonly limitUnits: number;
  /** Units the fleet claimed today (spent, or held by a process about to spend them), as last seen. */
  readonly claimedUnits: number;
  /** Units this process holds: claimed, not spent yet. */
  readonly heldUnits: number;
  /** Units this process spent today. */
  readonly spentUnits: number;
  /** Units this process may still spend today: unclaimed by the fleet plus its own held units. */
  readonly remainingUnits: number;
  /** Google answered `quotaExceeded` (here or in another process), or nothing is left to spend. */
  readonly exhausted: boolean;
  readonly resetsAtMs: number;
}

export type QuotaSpendResult = { readonly ok: true } | { readonly ok: false; readonly reason: QuotaRefusalReason; readonly message: string };

export interface QuotaBudgetOptions {
  /** The project's whole daily limit, shared by every process on the bus. */
  readonly dailyLimitUnits?: number;
  /** Units claimed from the ledger at a time (default 20). */
  readonly reservationUnits?: number;
  readonly logger?: Logger;
}

/**
 * The YouTube Data API quota of a whole fleet: every process on one bus (one Google Cloud
 * project) spends from one ledger per Pacific day in KV (`youtube-quota/quota.{day}`).
 *
 * A process claims units in chunks (`reservationUnits`, default 20) by compare-and-set on
 * the ledger, then spends them locally without a KV round trip; when they run out it claims
 * the next chunk. Claims never sum past the limit, so by our count the fleet never spends more
 * than `dailyLimitUnits` in a Pacific day. What the chunks cost instead is the other way
 * round, and bounded:
 * - units held and not spent are lost for the day: at most one chunk per process (a
 *   `release()` at stop hands them back; a crashed process's are lost);
 * - after Google's `quotaExceeded` (recorded in the ledger, which every process watches), a
 *   process whose watch missed it makes at most one more call: Google refuses that one too
 *   and the process stops on its own answer;
 * - the day is the one each process's clock says: with clocks at most S apart, a late clock
 *   charges the old day's ledger for up to S after midnight, the calls of S at most.
 *
 * Fails closed: while the bus is down, or the ledger cannot be read or written, every call is
 * refused (`quota_unavailable`, with the cause in the message); nothing throws.
 */
export class QuotaBudget {
  readonly dailyLimitUnits: number;
  readonly reservationUnits: number;
  private readonly logger: Logger | undefined;
  private dayKey: string;
  private heldUnits = 0;
  private spentUnits = 0;
  /** Google said `quotaExceeded` to this process today. */
  private refusedByApi = false;
  /** Today's ledger as last read, written or watched, and its revision. */
  private ledger: QuotaLedger | undefined;
  private ledgerRevision = 0;
  /** Reservations, releases and exhaustion reports run one at a time in a process. */
  private ledgerTurn: Promise<unknown> = Promise.resolve();
  private watching: Promise<Subscription> | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly ledgers: TypedKv<StoredLedger>;

  private constructor(
    private readonly bus: Bus,
    private readonly bucket: KvBucket,
    options: QuotaBudgetOptions,
    nowMs: number,
  ) {
    // Retried at once, no backoff: a process claims in turns already, and a process that
    // backed off would leave the day's claims to whichever one did not.
    this.ledgers = typedKv(bucket, ledgerCodec, { maxAttempts: MAX_LEDGER_ATTEMPTS, backoffMs: () => 0 });
    this.dailyLimitUnits = options.dailyLimitUnits ?? DEFAULT_YOUTUBE_DAILY_QUOTA_UNITS;
    this.reservationUnits = options.reservationUnits ?? DEFAULT_QUOTA_RESERVATION_UNITS;
    if (!Number.isInteger(this.dailyLimitUnits) || this.dailyLimitUnits < 0) throw new RangeError('dailyLimitUnits must be a non-negative integer');
    if (!Number.isInteger(this.reservationUnits) || this.reservationUnits < 1) throw new RangeError('reservationUnits must be a positive integer');
    this.dayKey = pacificDayKey(nowMs);
    this.logger = options.logger;
  }

  /** Opens the ledger bucket and starts watching it (another process's `quotaExceeded` stops this one). */
  static async open(bus: Bus, options: QuotaBudgetOptions = {}, nowMs: number = Date.now()): Promise<QuotaBudget> {
    const budget = new QuotaBudget(bus, await bus.kv(BUCKETS.youtubeQuota, { ttlMs: LEDGER_TTL_MS }), options, nowMs);
    await budget.watch();
    return budget;
  }

  /**
   * Takes `units` from today's budget before a call: from the units this process holds, else
   * by claiming more in the ledger. Refused (nothing taken) when they do not fit, when Google
   * said `quotaExceeded` today, or when the ledger is out of reach.
   */
  async tryConsume(units: number, nowMs: number): Promise<QuotaSpendResult> {
    if (!Number.isInteger(units) || units < 1) throw new RangeError('units must be a positive integer');
    this.rollOver(nowMs);
    if (!this.bus.isReady()) return unavailable('the bus is not connected');
    const known = this.knownRefusal();
    if (known) return known;
    if (this.spendHeld(units)) return { ok: true };
    return this.inTurn(() => this.reserveAndSpend(units, nowMs));
  }

  /** Google said `quotaExceeded`: nothing more, in any process, until the Pacific midnight. Never throws. */
  async markExhausted(nowMs: number): Promise<void> {
    this.rollOver(nowMs);
    this.refusedByApi = true;
    this.heldUnits = 0;
    const dayKey = this.dayKey;
    if (!this.bus.isReady()) {
      this.logger?.warn({ day: dayKey }, 'youtube quotaExceeded not recorded for the fleet: the bus is not connected');
      return;
    }
    await this.inTurn(async () => {
      const recorded = await this.changeLedger(dayKey, (ledger) => exhaustQuotaLedger(ledger, nowMs));
      if (!recorded.ok) this.logger?.warn({ day: dayKey, reason: recorded.message }, 'youtube quotaExceeded not recorded for the fleet');
    });
  }

  /** Where today stands, from what this process last saw of the ledger (no I/O). */
  snapshot(nowMs: number): QuotaSnapshot {
    this.rollOver(nowMs);
    const claimedUnits = this.ledger?.reserved_units ?? 0;
    const refused = this.refusedByApi || this.ledger?.exhausted_at != null;
    const remainingUnits = refused ? 0 : Math.max(0, this.dailyLimitUnits - claimedUnits) + this.heldUnits;
    return {
      dayKey: this.dayKey,
      limitUnits: this.dailyLimitUnits,
      claimedUnits,
      heldUnits: this.heldUnits,
      spentUnits: this.spentUnits,
      remainingUnits,
      exhausted: remainingUnits === 0,
      resetsAtMs: nextPacificMidnightMs(nowMs),
    };
  }

  /** The snapshot after reading the ledger again (for metrics); the last one seen when the bus is down. */
  async refresh(nowMs: number): Promise<QuotaSnapshot> {
    this.rollOver(nowMs);
    if (this.bus.isReady()) {
      const dayKey = this.dayKey;
      this.refreshing ??= this.bucket
        .get(quotaLedgerKey(dayKey))
        .then((entry) => {
          if (entry) this.see(dayKey, readable(entry.key, entry.value), entry.revision);
        })
        .catch((error: unknown) => this.logger?.warn({ err: error, day: dayKey }, 'youtube quota ledger not refreshed'))
        .finally(() => {
          this.refreshing = undefined;
        });
      await this.refreshing;
    }
    return this.snapshot(nowMs);
  }

  /**
   * Hands the units this process holds back to the ledger and stops watching it (at stop).
   * Spending afterwards still works: it claims and watches again. Never throws.
   */
  async release(): Promise<void> {
    const watching = this.watching;
    this.watching = undefined;
    (await watching?.catch(() => undefined))?.unsubscribe();
    await this.inTurn(async () => {
      const units = this.heldUnits;
      this.heldUnits = 0;
      if (units === 0 || !this.bus.isReady()) return;
      const released = await this.changeLedger(this.dayKey, (ledger) => (ledger ? releaseQuotaUnits(ledger, units) : undefined));
      if (!released.ok) this.logger?.warn({ day: this.dayKey, units, reason: released.message }, 'youtube quota units not handed back');
    });
  }

  private async reserveAndSpend(units: number, nowMs: number): Promise<QuotaSpendResult> {
    this.rollOver(nowMs);
    const dayKey = this.dayKey;
    // Another call in the queue may have claimed enough, or learned that Google said no.
    const known = this.knownRefusal();
    if (known) return known;
    if (this.spendHeld(units)) return { ok: true };
    if (!this.watching) await this.watch().catch(() => undefined);
    const key = quotaLedgerKey(dayKey);
    let refusal: QuotaSpendResult | undefined;
    let grantUnits = 0;
    let claimed: KvUpdateResult<StoredLedger>;
    try {
      claimed = await this.ledgers.update(key, (stored, entry) => {
        const ledger = readable(key, stored);
        if (entry && ledger) this.see(dayKey, ledger, entry.revision);
        const decision = decideQuotaReservation({ needUnits: units - this.heldUnits, ledger, limitUnits: this.dailyLimitUnits, reservationUnits: this.reservationUnits });
        if (decision.action === 'refuse') {
          refusal = decision.reason === 'quota_exceeded' ? exceeded() : { ok: false, reason: 'over_budget', message: 'the fleet has claimed the whole daily quota' };
          return SKIP;
        }
        refusal = undefined;
        grantUnits = decision.grantUnits;
        return decision.ledger;
      });
    } catch (error) {
      return unavailable(error instanceof KvContentionError ? stillLosing(key) : describe(error));
    }
    if (refusal) return refusal;
    this.see(dayKey, readable(key, claimed.value), claimed.revision!);
    // Past midnight meanwhile: the call was counted on the old day, the rest of the claim is that day's.
    if (this.dayKey !== dayKey) return { ok: true };
    this.heldUnits += grantUnits;
    this.spendHeld(units);
    return { ok: true };
  }

  /**
   * Reads today's ledger, writes `change(ledger)` by compare-and-set, retrying lost races.
   * `change` answering undefined (or the same ledger) writes nothing. An unreadable entry is
   * taken as the whole limit claimed, so fixing it never frees units.
   */
  private async changeLedger(dayKey: string, change: (ledger: QuotaLedger | undefined) => QuotaLedger | undefined): Promise<{ ok: true } | { ok: false; message: string }> {
    const key = quotaLedgerKey(dayKey);
    try {
      const changed = await this.ledgers.update(key, (stored, entry) => {
        const current = stored instanceof UnreadableLedgerError ? { reserved_units: this.dailyLimitUnits, exhausted_at: null } : stored;
        const next = change(current);
        if (next === undefined || next === current) {
          if (entry && current) this.see(dayKey, current, entry.revision);
          return SKIP;
        }
        return next;
      });
      if (changed.outcome !== 'unchanged') this.see(dayKey, readable(key, changed.value), changed.revision!);
      return { ok: true };
    } catch (error) {
      return { ok: false, message: error instanceof KvContentionError ? stillLosing(key) : describe(error) };
    }
  }

  private spendHeld(units: number): boolean {
    if (this.heldUnits < units) return false;
    this.heldUnits -= units;
    this.spentUnits += units;
    return true;
  }

  private knownRefusal(): QuotaSpendResult | undefined {
    return this.refusedByApi || this.ledger?.exhausted_at != null ? exceeded() : undefined;
  }

  /** Takes a ledger seen for `dayKey` if it is today's and newer than what we have. */
  private see(dayKey: string, ledger: QuotaLedger | undefined, revision: number): void {
    if (dayKey !== this.dayKey || revision <= this.ledgerRevision) return;
    this.ledger = ledger;
    this.ledgerRevision = revision;
    if (ledger?.exhausted_at != null) this.heldUnits = 0;
  }

  private readonly onLedgerChange = (event: KvWatchEvent): void => {
    const dayKey = dayKeyOfLedgerKey(event.key);
    if (dayKey === undefined) return;
    if (event.value === undefined) {
      // An operator deleted the day's ledger: it starts again from nothing.
      this.see(dayKey, undefined, event.revision);
      return;
    }
    try {
      this.see(dayKey, decodeJson(event.value, quotaLedgerSchema), event.revision);
    } catch (error) {
      this.logger?.warn({ err: error, key: event.key }, 'unreadable youtube quota ledger ignored');
    }
  };

  private watch(): Promise<Subscription> {
    const watching = this.bucket.watch(this.onLedgerChange);
    this.watching = watching;
    watching.catch(() => {
      if (this.watching === watching) this.watching = undefined;
    });
    return watching;
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.ledgerTurn.then(work, work);
    this.ledgerTurn = run.catch(() => undefined);
    return run;
  }

  /** A new Pacific day starts from nothing; a `nowMs` from before the current day changes nothing. */
  private rollOver(nowMs: number): void {
    const today = pacificDayKey(nowMs);
    if (today <= this.dayKey) return;
    this.dayKey = today;
    this.heldUnits = 0;
    this.spentUnits = 0;
    this.refusedByApi = false;
    this.ledger = undefined;
    this.ledgerRevision = 0;
  }
}

class UnreadableLedgerError extends Error {
  constructor(key: string, options: { cause: unknown }) {
    super(`the ledger ${key} is unreadable (delete the key to start the day again)`, options);
    this.name = 'UnreadableLedgerError';
  }
}

/** A ledger entry as read: the ledger, or why it could not be read (never written back). */
type StoredLedger = QuotaLedger | UnreadableLedgerError;

const ledgerCodec: KvCodec<StoredLedger> = {
  encode: (ledger) => encodeJson(ledger),
  decode: (data) => {
    try {
      return decodeJson(data, quotaLedgerSchema);
    } catch (error) {
      return new UnreadableLedgerError('', { cause: error });
    }
  },
};

/** The ledger of `key` as read (bytes or decoded); throws `UnreadableLedgerError` naming `key` when it is not one. */
function readable(key: string, stored: StoredLedger | Uint8Array | undefined): QuotaLedger | undefined {
  if (stored instanceof Uint8Array) stored = ledgerCodec.decode(stored);
  if (stored instanceof UnreadableLedgerError) throw new UnreadableLedgerError(key, { cause: stored.cause });
  return stored;
}

function stillLosing(key: string): string {
  return `still losing the compare-and-set on ${key} after ${MAX_LEDGER_ATTEMPTS} attempts`;
}

function exceeded(): QuotaSpendResult {
  return { ok: false, reason: 'quota_exceeded', message: 'Google answered quotaExceeded today; no calls until the Pacific midnight' };
}

function unavailable(cause: string): QuotaSpendResult {
  return { ok: false, reason: 'quota_unavailable', message: `quota ledger unavailable, call refused: ${cause}` };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
