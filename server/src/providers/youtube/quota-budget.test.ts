import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuotaBudget, YOUTUBE_QUOTA_COSTS, nextPacificMidnightMs, pacificDayKey } from './quota-budget.js';

// 2026-03-03 10:00 PST (UTC-8).
const WINTER = Date.UTC(2026, 2, 3, 18, 0);
// 2026-07-03 10:00 PDT (UTC-7).
const SUMMER = Date.UTC(2026, 6, 3, 17, 0);

describe('Pacific day arithmetic', () => {
  it('names the Pacific calendar day, not the UTC one', () => {
    assert.equal(pacificDayKey(Date.UTC(2026, 2, 4, 7, 59)), '2026-03-03');
    assert.equal(pacificDayKey(Date.UTC(2026, 2, 4, 8, 0)), '2026-03-04');
    assert.equal(pacificDayKey(Date.UTC(2026, 6, 4, 6, 59)), '2026-07-03');
    assert.equal(pacificDayKey(Date.UTC(2026, 6, 4, 7, 0)), '2026-07-04');
  });

  it('finds the next Pacific midnight in standard and daylight time', () => {
    assert.equal(nextPacificMidnightMs(WINTER), Date.UTC(2026, 2, 4, 8, 0));
    assert.equal(nextPacificMidnightMs(SUMMER), Date.UTC(2026, 6, 4, 7, 0));
    // Exactly at midnight: the next one, a day later.
    assert.equal(nextPacificMidnightMs(Date.UTC(2026, 2, 4, 8, 0)), Date.UTC(2026, 2, 5, 8, 0));
  });

  it('crosses the daylight-saving switches (23 h and 25 h days)', () => {
    // 2026-03-08 02:00 PST -> PDT. The evening before, the next midnight is still PST.
    assert.equal(nextPacificMidnightMs(Date.UTC(2026, 2, 8, 5, 0)), Date.UTC(2026, 2, 8, 8, 0));
    // During 8 March (a 23 h day) the next midnight is PDT.
    assert.equal(nextPacificMidnightMs(Date.UTC(2026, 2, 8, 12, 0)), Date.UTC(2026, 2, 9, 7, 0));
    // 2026-11-01 02:00 PDT -> PST: a 25 h day.
    assert.equal(nextPacificMidnightMs(Date.UTC(2026, 10, 1, 12, 0)), Date.UTC(2026, 10, 2, 8, 0));
  });
});

describe('QuotaBudget', () => {
  it('charges documented costs and refuses a call that does not fit, taking nothing', () => {
    const budget = new QuotaBudget(150, WINTER);
    assert.equal(budget.tryConsume(YOUTUBE_QUOTA_COSTS['search.list'], WINTER), true);
    assert.equal(budget.tryConsume(YOUTUBE_QUOTA_COSTS['search.list'], WINTER), false);
    for (let i = 0; i < 50; i++) assert.equal(budget.tryConsume(YOUTUBE_QUOTA_COSTS['videos.list'], WINTER), true);
    assert.equal(budget.tryConsume(1, WINTER), false);
    assert.deepEqual(budget.snapshot(WINTER), {
      dayKey: '2026-03-03',
      limitUnits: 150,
      usedUnits: 150,
      remainingUnits: 0,
      exhausted: true,
      resetsAtMs: Date.UTC(2026, 2, 4, 8, 0),
    });
  });

  it('resets at midnight Pacific, not at midnight UTC', () => {
    const budget = new QuotaBudget(10, WINTER);
    assert.equal(budget.tryConsume(10, WINTER), true);
    assert.equal(budget.tryConsume(1, Date.UTC(2026, 2, 4, 0, 30)), false, 'UTC midnight is no reset');
    assert.equal(budget.tryConsume(1, Date.UTC(2026, 2, 4, 7, 59, 59)), false);
    assert.equal(budget.tryConsume(1, Date.UTC(2026, 2, 4, 8, 0)), true);
    assert.equal(budget.snapshot(Date.UTC(2026, 2, 4, 8, 0)).usedUnits, 1);
  });

  it('stays exhausted after Google says quotaExceeded, until the reset', () => {
    const budget = new QuotaBudget(10_000, WINTER);
    assert.equal(budget.tryConsume(1, WINTER), true);
    budget.markExhausted(WINTER + 1000);
    assert.equal(budget.tryConsume(1, WINTER + 2000), false);
    const snapshot = budget.snapshot(WINTER + 2000);
    assert.equal(snapshot.exhausted, true);
    assert.equal(snapshot.remainingUnits, 0);
    assert.equal(budget.tryConsume(1, Date.UTC(2026, 2, 4, 8, 0, 1)), true);
    assert.equal(budget.snapshot(Date.UTC(2026, 2, 4, 8, 0, 1)).exhausted, false);
  });

  it('rejects a nonsensical limit', () => {
    assert.throws(() => new QuotaBudget(-1, WINTER), RangeError);
    assert.throws(() => new QuotaBudget(1.5, WINTER), RangeError);
  });
});
