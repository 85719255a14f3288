/**
 * The YouTube Data API's daily quota, tracked on our side so polling stops before Google
 * refuses us. Costs are the documented ones
 * (https://developers.google.com/youtube/v3/determine_quota_cost); the day resets at
 * midnight Pacific Time, like the real quota.
 */

/** Units per call, by the API method we use (plus `search.list`, which we avoid). */
export const YOUTUBE_QUOTA_COSTS = {
  'videos.list': 1,
  'channels.list': 1,
  'playlistItems.list': 1,
  'search.list': 100,
} as const;
export type YouTubeApiMethod = keyof typeof YOUTUBE_QUOTA_COSTS;

/** The default daily allocation of a Google Cloud project. */
export const DEFAULT_YOUTUBE_DAILY_QUOTA_UNITS = 10_000;

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

/** The Pacific calendar day an instant falls on: `2026-03-08`. */
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

export interface QuotaSnapshot {
  readonly dayKey: string;
  readonly limitUnits: number;
  readonly usedUnits: number;
  readonly remainingUnits: number;
  /** Google answered `quotaExceeded`, or our own budget is spent. */
  readonly exhausted: boolean;
  readonly resetsAtMs: number;
}

/**
 * Units spent today against a daily limit. One per process: a fleet shares the Google
 * project's quota, so each process should get its share as `dailyLimitUnits`.
 */
export class QuotaBudget {
  private dayKey: string;
  private usedUnits = 0;
  private refusedByApi = false;

  constructor(
    readonly dailyLimitUnits: number = DEFAULT_YOUTUBE_DAILY_QUOTA_UNITS,
    nowMs: number = Date.now(),
  ) {
    if (!Number.isInteger(dailyLimitUnits) || dailyLimitUnits < 0) throw new RangeError('dailyLimitUnits must be a non-negative integer');
    this.dayKey = pacificDayKey(nowMs);
  }

  /** Takes `units` from today's budget; false (and nothing taken) when they do not fit. */
  tryConsume(units: number, nowMs: number): boolean {
    this.rollOver(nowMs);
    if (this.refusedByApi || this.usedUnits + units > this.dailyLimitUnits) return false;
    this.usedUnits += units;
    return true;
  }

  /** Google said `quotaExceeded`: nothing more until the Pacific midnight. */
  markExhausted(nowMs: number): void {
    this.rollOver(nowMs);
    this.refusedByApi = true;
  }

  snapshot(nowMs: number): QuotaSnapshot {
    this.rollOver(nowMs);
    return {
      dayKey: this.dayKey,
      limitUnits: this.dailyLimitUnits,
      usedUnits: this.usedUnits,
      remainingUnits: this.refusedByApi ? 0 : Math.max(0, this.dailyLimitUnits - this.usedUnits),
      exhausted: this.refusedByApi || this.usedUnits >= this.dailyLimitUnits,
      resetsAtMs: nextPacificMidnightMs(nowMs),
    };
  }

  private rollOver(nowMs: number): void {
    const today = pacificDayKey(nowMs);
    if (today === this.dayKey) return;
    this.dayKey = today;
    this.usedUnits = 0;
    this.refusedByApi = false;
  }
}
