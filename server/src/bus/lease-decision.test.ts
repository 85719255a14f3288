import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideLease, type LeaseRecord } from './lease-decision.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0);
const LEASE_MS = 30_000;
const SKEW_MS = 5_000;
const at = (ms: number): string => new Date(ms).toISOString();

describe('decideLease', () => {
  const decide = (current: LeaseRecord | undefined, nowMs = T0) => decideLease({ current, me: 'me', nowMs, leaseMs: LEASE_MS, maxClockSkewMs: SKEW_MS });
  const mine = { holder: 'me', expires_at: at(T0 + LEASE_MS) };

  const table: ReadonlyArray<{ name: string; current: LeaseRecord | undefined; nowMs?: number; action: string }> = [
    { name: 'free', current: undefined, action: 'acquire' },
    { name: 'held by me and fresh', current: { holder: 'me', expires_at: at(T0 + 10_000) }, action: 'renew' },
    { name: 'held by me and expired (nobody took it)', current: { holder: 'me', expires_at: at(T0 - 60_000) }, action: 'renew' },
    { name: 'held by other and fresh', current: { holder: 'other', expires_at: at(T0 + 10_000) }, action: 'wait' },
    { name: 'held by other, expired but within the clock skew', current: { holder: 'other', expires_at: at(T0 - SKEW_MS + 1) }, action: 'wait' },
    { name: 'held by other, expired by exactly the skew', current: { holder: 'other', expires_at: at(T0 - SKEW_MS) }, action: 'take-over' },
    { name: 'held by other and long expired', current: { holder: 'other', expires_at: at(T0 - 3_600_000) }, action: 'take-over' },
    { name: 'held by other, ahead by one lease plus the skew (a fast clock within bounds)', current: { holder: 'other', expires_at: at(T0 + LEASE_MS + SKEW_MS) }, action: 'wait' },
    { name: 'held by other, further ahead than any bounded clock', current: { holder: 'other', expires_at: at(T0 + LEASE_MS + SKEW_MS + 1) }, action: 'take-over' },
  ];
  for (const row of table) {
    it(`${row.name}: ${row.action}`, () => {
      assert.equal(decide(row.current, row.nowMs).action, row.action);
    });
  }

  it('writes `{ holder: me, expires_at: now + lease }` whenever it writes, and names whom it took over from', () => {
    assert.deepEqual(decide(undefined), { action: 'acquire', lease: mine });
    assert.deepEqual(decide({ holder: 'me', expires_at: at(T0) }), { action: 'renew', lease: mine });
    assert.deepEqual(decide({ holder: 'dead', expires_at: at(T0 - 3_600_000) }), { action: 'take-over', lease: mine, from: 'dead' });
    assert.deepEqual(decide({ holder: 'alive', expires_at: at(T0 + 1) }), { action: 'wait', holder: 'alive', expiresAtMs: T0 + 1 });
  });
});
