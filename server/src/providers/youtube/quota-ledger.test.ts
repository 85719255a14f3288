import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_QUOTA_RESERVATION_UNITS,
  EMPTY_QUOTA_LEDGER,
  YOUTUBE_QUOTA_COSTS,
  dayKeyOfLedgerKey,
  decideQuotaReservation,
  exhaustQuotaLedger,
  nextPacificMidnightMs,
  pacificDayKey,
  quotaLedgerKey,
  quotaLedgerSchema,
  releaseQuotaUnits,
  type QuotaLedger,
} from './quota-ledger.js';

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


describe('the quota ledger key', () => {
  it('names one key per Pacific day and reads the day back', () => {
    assert.equal(quotaLedgerKey(pacificDayKey(Date.UTC(2026, 10, 24, 7, 59))), 'quota.2026-11-23');
    assert.equal(quotaLedgerKey(pacificDayKey(Date.UTC(2026, 10, 24, 8, 0))), 'quota.2026-11-24');
    assert.equal(dayKeyOfLedgerKey('quota.2026-11-23'), '2026-11-23');
  });

  it('refuses to build a key from anything but a day, and reads no day out of other keys', () => {
    for (const hostile of ['', '2026-11-2', '2026-11-23.x', '../2026-11-23', '2026-11-23\n', '>', '*']) {
      assert.throws(() => quotaLedgerKey(hostile), RangeError, JSON.stringify(hostile));
    }
    for (const other of ['quota.', 'quota.today', 'quota.2026-11-23.extra', 'youtube-poller', 'quota2026-11-23']) {
      assert.equal(dayKeyOfLedgerKey(other), undefined, other);
    }
  });
});

describe('the quota ledger schema', () => {
  it('accepts a ledger and rejects anything that could free or invent units', () => {
    assert.ok(quotaLedgerSchema.safeParse({ reserved_units: 20, exhausted_at: null }).success);
    assert.ok(quotaLedgerSchema.safeParse({ reserved_units: 0, exhausted_at: '2026-11-23T20:00:00.000Z' }).success);
    const hostile: unknown[] = [
      null,
      'not an object',
      {},
      { reserved_units: -1, exhausted_at: null },
      { reserved_units: 1.5, exhausted_at: null },
      { reserved_units: '20', exhausted_at: null },
      { reserved_units: Number.POSITIVE_INFINITY, exhausted_at: null },
      { reserved_units: 1e12, exhausted_at: null },
      { reserved_units: 20 },
      { reserved_units: 20, exhausted_at: 'yesterday' },
      { reserved_units: 20, exhausted_at: null, extra: true },
    ];
    for (const value of hostile) assert.equal(quotaLedgerSchema.safeParse(value).success, false, JSON.stringify(value));
  });
});

describe('decideQuotaReservation', () => {
  const LIMIT = 100;
  const CHUNK = 20;
  const ledger = (reserved: number, exhaustedAt: string | null = null): QuotaLedger => ({ reserved_units: reserved, exhausted_at: exhaustedAt });
  const table: ReadonlyArray<{ name: string; need: number; current: QuotaLedger | undefined; expected: ReturnType<typeof decideQuotaReservation> }> = [
    { name: 'first claim of the day: a whole chunk', need: 1, current: undefined, expected: { action: 'reserve', grantUnits: CHUNK, ledger: ledger(CHUNK) } },
    { name: 'a later claim: a chunk on top of the others', need: 1, current: ledger(40), expected: { action: 'reserve', grantUnits: CHUNK, ledger: ledger(60) } },
    { name: 'a call dearer than a chunk: what it needs', need: 100, current: undefined, expected: { action: 'reserve', grantUnits: 100, ledger: ledger(100) } },
    { name: 'less than a chunk left: only what is left', need: 1, current: ledger(95), expected: { action: 'reserve', grantUnits: 5, ledger: ledger(100) } },
    { name: 'exactly what the call needs left', need: 5, current: ledger(95), expected: { action: 'reserve', grantUnits: 5, ledger: ledger(100) } },
    { name: 'less left than the call needs', need: 6, current: ledger(95), expected: { action: 'refuse', reason: 'over_budget' } },
    { name: 'the whole limit claimed', need: 1, current: ledger(100), expected: { action: 'refuse', reason: 'over_budget' } },
    { name: 'more than the limit claimed (a process with a larger limit)', need: 1, current: ledger(150), expected: { action: 'refuse', reason: 'over_budget' } },
    { name: 'Google said quotaExceeded, units left or not', need: 1, current: ledger(3, '2026-11-23T20:00:00.000Z'), expected: { action: 'refuse', reason: 'quota_exceeded' } },
  ];
  for (const row of table) {
    it(`${row.name}`, () => {
      assert.deepEqual(decideQuotaReservation({ needUnits: row.need, ledger: row.current, limitUnits: LIMIT, reservationUnits: CHUNK }), row.expected);
    });
  }

  it('never hands out more than the limit, however the claims come', () => {
    for (const chunk of [1, 7, DEFAULT_QUOTA_RESERVATION_UNITS, 250]) {
      let current: QuotaLedger | undefined;
      let handedOut = 0;
      for (let call = 0; call < 1000; call++) {
        const decision = decideQuotaReservation({ needUnits: call % 7 === 0 ? YOUTUBE_QUOTA_COSTS['search.list'] : 1, ledger: current, limitUnits: 1234, reservationUnits: chunk });
        if (decision.action !== 'reserve') continue;
        handedOut += decision.grantUnits;
        current = decision.ledger;
      }
      assert.equal(current?.reserved_units, handedOut);
      assert.ok(handedOut <= 1234, `chunk ${chunk}: handed out ${handedOut}`);
      assert.ok(handedOut > 1234 - YOUTUBE_QUOTA_COSTS['search.list'], `chunk ${chunk}: left ${1234 - handedOut} unclaimed`);
    }
  });
});

describe('releasing and exhausting the ledger', () => {
  it('hands back held units, never below zero', () => {
    assert.deepEqual(releaseQuotaUnits({ reserved_units: 60, exhausted_at: null }, 15), { reserved_units: 45, exhausted_at: null });
    assert.deepEqual(releaseQuotaUnits({ reserved_units: 5, exhausted_at: null }, 15), { reserved_units: 0, exhausted_at: null });
  });

  it('records the first quotaExceeded and keeps its time', () => {
    const first = exhaustQuotaLedger(undefined, Date.UTC(2026, 10, 23, 20, 0));
    assert.deepEqual(first, { ...EMPTY_QUOTA_LEDGER, exhausted_at: '2026-11-23T20:00:00.000Z' });
    assert.equal(exhaustQuotaLedger(first, Date.UTC(2026, 10, 23, 21, 0)), first);
    assert.deepEqual(exhaustQuotaLedger({ reserved_units: 70, exhausted_at: null }, Date.UTC(2026, 10, 23, 20, 0)), { reserved_units: 70, exhausted_at: '2026-11-23T20:00:00.000Z' });
  });
});
