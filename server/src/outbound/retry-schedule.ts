const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Delays before each retry after the first attempt, as the Standard Webhooks spec's example
 * schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h -- roughly exponential, about
 * three days in all (75.6 h). After the last retry fails the delivery is dead-lettered.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
];

/** Each delay is drawn from [delay * (1 - JITTER), delay * (1 + JITTER)]. */
export const RETRY_JITTER = 0.2;

/** A `Retry-After` is honoured up to this. */
export const MAX_RETRY_AFTER_MS = 24 * HOUR;

/**
 * The delay before the next attempt once `attemptsMade` attempts have failed, with jitter so
 * failures caused by our own load do not recur in lockstep; undefined when the schedule is
 * spent (dead-letter). A receiver's `Retry-After` longer than the scheduled delay wins.
 */
export function nextRetryDelayMs(
  attemptsMade: number,
  schedule: readonly number[],
  options: { random?: () => number; retryAfterMs?: number } = {},
): number | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) throw new RangeError('attemptsMade must be a positive integer');
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return undefined;
  const random = options.random ?? Math.random;
  const jittered = Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()));
  const retryAfter = Math.min(options.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
  return Math.max(jittered, retryAfter);
}

/** `Retry-After` as delay-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d{1,10}$/.test(value)) return Number(value) * SECOND;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
