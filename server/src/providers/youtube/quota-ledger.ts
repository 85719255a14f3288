import { z } from 'zod';

/**
 * The YouTube Data API's daily quota, the pure part: documented unit costs
 * (https://developers.google.com/youtube/v3/determine_quota_cost), the Pacific day it resets
 * on (midnight Pacific Time, like the real quota), and the fleet ledger's decisions. The
 * ledger is one KV entry per Pacific day (`quota.{YYYY-MM-DD}` in `youtube-quota`) counting the
 * units processes have claimed; `quota-budget.ts` does the KV I/O around these functions.
 */

/** Units per call, by the API method we use (plus `search.list`, which we avoid). */
export const YOUTUBE_QUOTA_COSTS = {
  'videos.list': 1,
  'channels.list': 1,
  'playlistItems.list': 1,
  'search.list': 100,
} as const;
export type YouTubeApiMethod = keyof typeof YOUTUBE_QUOTA_COSTS;

/** The default daily allocation of a Google Cloud project: the whole fleet's limit. */
export const DEFAULT_YOUTUBE_DAILY_QUOTA_UNITS = 10_000;
/** Units a process claims from the ledger at a time and then spends without a KV round trip. */
export const DEFAULT_QUOTA_RESERVATION_UNITS = 20;

const PACIFIC = 'America/Los_Angeles';
const pacificFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: PACIFIC,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function pacificParts(ms: number): { year: number; month: number; day: number; hour: number; minute: number } {
  const parts: Record<string, string> = {};
  for (const part of pacificFormat.formatToParts(ms)) parts[part.type] = part.value;
  return { year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']), hour: Number(parts['hour']), minute: Number(parts['minute']) };
}

/** The Pacific calendar day an instant falls on: `2026-03-08`. Sorts like the days it names. */
export function pacificDayKey(ms: number): string {
  const { year, month, day } = pacificParts(ms);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The next midnight in Pacific Time after `ms` (PST or PDT, whichever is in force then). */
export function nextPacificMidnightMs(ms: number): number {
  const { year, month, day } = pacificParts(ms);
  for (const offsetHours of [8, 7]) {
    const candidate = Date.UTC(year, month - 1, day + 1) + offsetHours * 3_600_000;
    const local = pacificParts(candidate);
    if (local.hour === 0 && local.minute === 0 && candidate > ms) return candidate;
  }
  // Unreachable for America/Los_Angeles; fall back to a day later rather than never resetting.
  return ms + 24 * 3_600_000;
}

const LEDGER_KEY_PREFIX = 'quota.';
const DAY_KEY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** The ledger's KV key for a Pacific day: `quota.2026-11-23`. */
export function quotaLedgerKey(dayKey: string): string {
  if (!DAY_KEY_PATTERN.test(dayKey)) throw new RangeError(`not a day key: ${JSON.stringify(dayKey)}`);
  return `${LEDGER_KEY_PREFIX}${dayKey}`;
}

/** The day a ledger key names, undefined for any other key. */
export function dayKeyOfLedgerKey(key: string): string | undefined {
  if (!key.startsWith(LEDGER_KEY_PREFIX)) return undefined;
  const dayKey = key.slice(LEDGER_KEY_PREFIX.length);
  return DAY_KEY_PATTERN.test(dayKey) ? dayKey : undefined;
}

/** One Pacific day of the fleet's quota. */
export const quotaLedgerSchema = z.strictObject({
  /** Units handed out to processes today (each spends its share without asking again). */
  reserved_units: z.number().int().min(0).max(1_000_000_000),
  /** When Google answered `quotaExceeded` to any process today; null while it has not. */
  exhausted_at: z.iso.datetime().nullable(),
});
export type QuotaLedger = z.infer<typeof quotaLedgerSchema>;

export const EMPTY_QUOTA_LEDGER: QuotaLedger = { reserved_units: 0, exhausted_at: null };

export type QuotaRefusalReason =
  /** The fleet has claimed the whole daily limit. */
  | 'over_budget'
  /** Google answered `quotaExceeded` today (to this or another process). */
  | 'quota_exceeded'
  /** The ledger could not be read or written (bus down, unreadable entry, endless contention): fail closed. */
  | 'quota_unavailable';

export interface QuotaReservationInput {
  /** Units the call needs beyond what the process still holds (> 0). */
  readonly needUnits: number;
  /** Today's ledger as just read; undefined when nobody has claimed anything yet. */
  readonly ledger: QuotaLedger | undefined;
  readonly limitUnits: number;
  /** The usual claim; more when one call needs more, less when less is left. */
  readonly reservationUnits: number;
}

export type QuotaReservationDecision =
  /** Write `ledger` (compare-and-set at the revision read), then hold `grantUnits` more. */
  | { readonly action: 'reserve'; readonly grantUnits: number; readonly ledger: QuotaLedger }
  | { readonly action: 'refuse'; readonly reason: Exclude<QuotaRefusalReason, 'quota_unavailable'> };

/**
 * How many units to claim, pure: a chunk of `reservationUnits`, at least what the call needs,
 * never past the limit. Nothing when Google said `quotaExceeded` today or when what is left
 * unclaimed does not cover the call.
 */
export function decideQuotaReservation(input: QuotaReservationInput): QuotaReservationDecision {
  const { needUnits, limitUnits, reservationUnits } = input;
  const ledger = input.ledger ?? EMPTY_QUOTA_LEDGER;
  if (ledger.exhausted_at !== null) return { action: 'refuse', reason: 'quota_exceeded' };
  const unclaimed = limitUnits - ledger.reserved_units;
  if (unclaimed < needUnits) return { action: 'refuse', reason: 'over_budget' };
  const grantUnits = Math.min(unclaimed, Math.max(needUnits, reservationUnits));
  return { action: 'reserve', grantUnits, ledger: { ...ledger, reserved_units: ledger.reserved_units + grantUnits } };
}

/** The ledger with units a process did not spend handed back (never below zero). */
export function releaseQuotaUnits(ledger: QuotaLedger, units: number): QuotaLedger {
  return { ...ledger, reserved_units: Math.max(0, ledger.reserved_units - units) };
}

/** The ledger marked `quotaExceeded` (the first report's time is kept). */
export function exhaustQuotaLedger(ledger: QuotaLedger | undefined, nowMs: number): QuotaLedger {
  const current = ledger ?? EMPTY_QUOTA_LEDGER;
  return current.exhausted_at !== null ? current : { ...current, exhausted_at: new Date(nowMs).toISOString() };
}
