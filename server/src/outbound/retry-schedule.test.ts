import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_SCHEDULE_MS, MAX_RETRY_AFTER_MS, RETRY_JITTER, nextRetryDelayMs, parseRetryAfterMs } from './retry-schedule.js';

const HOUR = 3600_000;

describe('retry schedule', () => {
  it('spans about three days, growing (exponential backoff)', () => {
    const total = DEFAULT_RETRY_SCHEDULE_MS.reduce((sum, delay) => sum + delay, 0);
    assert.ok(total >= 66 * HOUR && total <= 84 * HOUR, `total ${total / HOUR} h`);
    for (let i = 1; i < DEFAULT_RETRY_SCHEDULE_MS.length; i++) {
      assert.ok(DEFAULT_RETRY_SCHEDULE_MS[i]! >= DEFAULT_RETRY_SCHEDULE_MS[i - 1]!, `delay ${i} does not shrink`);
    }
    assert.equal(DEFAULT_RETRY_SCHEDULE_MS[0], 5_000);
  });

  it('jitters every delay within ±20 %, and the extremes are reached', () => {
    for (let attempt = 1; attempt <= DEFAULT_RETRY_SCHEDULE_MS.length; attempt++) {
      const base = DEFAULT_RETRY_SCHEDULE_MS[attempt - 1]!;
      assert.equal(nextRetryDelayMs(attempt, DEFAULT_RETRY_SCHEDULE_MS, { random: () => 0 }), Math.round(base * (1 - RETRY_JITTER)));
      assert.equal(nextRetryDelayMs(attempt, DEFAULT_RETRY_SCHEDULE_MS, { random: () => 0.999999 }), Math.round(base * (1 + RETRY_JITTER * 0.999998)));
      for (let i = 0; i < 50; i++) {
        const delay = nextRetryDelayMs(attempt, DEFAULT_RETRY_SCHEDULE_MS)!;
        assert.ok(delay >= base * (1 - RETRY_JITTER) - 1 && delay <= base * (1 + RETRY_JITTER) + 1, `${delay} around ${base}`);
      }
    }
    const draws = new Set(Array.from({ length: 20 }, () => nextRetryDelayMs(9, DEFAULT_RETRY_SCHEDULE_MS)));
    assert.ok(draws.size > 10, 'jitter spreads retries');
  });

  it('is spent after the last delay: the delivery is dead-lettered', () => {
    assert.equal(nextRetryDelayMs(DEFAULT_RETRY_SCHEDULE_MS.length + 1, DEFAULT_RETRY_SCHEDULE_MS), undefined);
    assert.equal(nextRetryDelayMs(1, []), undefined);
    assert.equal(nextRetryDelayMs(3, [10, 20]), undefined);
    assert.throws(() => nextRetryDelayMs(0, DEFAULT_RETRY_SCHEDULE_MS), RangeError);
  });

  it('honours a longer Retry-After, capped at a day; a shorter one does not hasten the retry', () => {
    assert.equal(nextRetryDelayMs(1, [1000], { random: () => 0.5, retryAfterMs: 120_000 }), 120_000);
    assert.equal(nextRetryDelayMs(1, [1000], { random: () => 0.5, retryAfterMs: 10 }), 1000);
    assert.equal(nextRetryDelayMs(1, [1000], { random: () => 0.5, retryAfterMs: 30 * 24 * HOUR }), MAX_RETRY_AFTER_MS);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfterMs('120', now), 120_000);
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfterMs(undefined, now), undefined);
    assert.equal(parseRetryAfterMs('soon', now), undefined);
    assert.equal(parseRetryAfterMs('-5', now), undefined);
  });
});
