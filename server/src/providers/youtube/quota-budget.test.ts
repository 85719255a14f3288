import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { eventually } from '../../../../test/support/provider-fakes.js';
import { BUCKETS, createMemoryBus, createNatsBus, decodeJson, type Bus } from '../../bus/index.js';
import { Registry } from 'prom-client';
import { QuotaBudget } from './quota-budget.js';
import { nextPacificMidnightMs, pacificDayKey, quotaLedgerKey, quotaLedgerSchema, type QuotaLedger } from './quota-ledger.js';
import { YOUTUBE_METRIC_NAMES, createYouTubeMetrics } from './youtube-metrics.js';

/** 20:00 UTC (noon Pacific) on 23 November 2026 plus `n` days: each test spends on its own days. */
const dayAt = (n: number): number => Date.UTC(2026, 10, 23 + n, 20, 0);

describeEachBus('the fleet-wide YouTube quota budget', (busUnderTest) => {
  let bus: Bus;
  const budgets: QuotaBudget[] = [];

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
  });
  after(async () => {
    for (const budget of budgets) await budget.release();
    await bus.close();
  });

  async function open(nowMs: number, options: { limit: number; chunk?: number }, on: Bus = bus): Promise<QuotaBudget> {
    const budget = await QuotaBudget.open(on, { dailyLimitUnits: options.limit, reservationUnits: options.chunk ?? 20 }, nowMs);
    budgets.push(budget);
    return budget;
  }

  async function ledgerOf(nowMs: number, on: Bus = bus): Promise<QuotaLedger | undefined> {
    const entry = await (await on.kv(BUCKETS.youtubeQuota)).get(quotaLedgerKey(pacificDayKey(nowMs)));
    return entry && decodeJson(entry.value, quotaLedgerSchema);
  }

  it('claims a chunk in the day\'s ledger and spends it without asking again', async () => {
    const now = dayAt(0);
    const budget = await open(now, { limit: 1000, chunk: 20 });
    for (let call = 0; call < 20; call++) assert.deepEqual(await budget.tryConsume(1, now), { ok: true });
    assert.deepEqual(await ledgerOf(now), { reserved_units: 20, exhausted_at: null });
    assert.deepEqual(await budget.tryConsume(1, now), { ok: true });
    assert.deepEqual(await ledgerOf(now), { reserved_units: 40, exhausted_at: null }, 'the 21st unit claimed the next chunk');
    const snapshot = budget.snapshot(now);
    assert.deepEqual(
      { claimed: snapshot.claimedUnits, held: snapshot.heldUnits, spent: snapshot.spentUnits, remaining: snapshot.remainingUnits, exhausted: snapshot.exhausted },
      { claimed: 40, held: 19, spent: 21, remaining: 1000 - 40 + 19, exhausted: false },
    );
    assert.equal(snapshot.dayKey, '2026-11-23');
  });

  it('lets three budgets on one bus spend exactly the limit together, never more, when they spend at once', async () => {
    const now = dayAt(1);
    const LIMIT = 200;
    const fleet = [await open(now, { limit: LIMIT, chunk: 7 }), await open(now, { limit: LIMIT, chunk: 7 }), await open(now, { limit: LIMIT, chunk: 7 })];
    const spentBy = [0, 0, 0];
    const refusals = new Set<string>();
    // Waves of 25 concurrent one-unit calls per process, until every process is refused.
    const spendUntilRefused = async (index: number) => {
      for (;;) {
        const results = await Promise.all(Array.from({ length: 25 }, () => fleet[index]!.tryConsume(1, now)));
        for (const result of results) {
          if (result.ok) spentBy[index]!++;
          else refusals.add(result.reason);
        }
        if (results.every((result) => !result.ok)) return;
      }
    };
    await Promise.all(fleet.map((_, index) => spendUntilRefused(index)));
    const total = spentBy.reduce((sum, spent) => sum + spent, 0);
    assert.equal(total, LIMIT, `spent ${spentBy.join(' + ')}`);
    assert.deepEqual([...refusals], ['over_budget']);
    assert.deepEqual(await ledgerOf(now), { reserved_units: LIMIT, exhausted_at: null });
    assert.deepEqual(
      fleet.map((budget) => budget.snapshot(now).spentUnits),
      spentBy,
    );
    for (const budget of fleet) {
      const snapshot = budget.snapshot(now);
      assert.equal(snapshot.heldUnits, 0);
      assert.equal(snapshot.exhausted, true);
    }
    assert.ok(spentBy.filter((spent) => spent > 0).length >= 2, `the work was shared: ${spentBy.join(', ')}`);
  });

  it('refuses a dear call that does not fit what is left, and still spends cheap ones', async () => {
    const now = dayAt(2);
    const budget = await open(now, { limit: 150, chunk: 20 });
    assert.deepEqual(await budget.tryConsume(100, now), { ok: true });
    const dear = await budget.tryConsume(100, now);
    assert.equal(dear.ok, false);
    assert.ok(!dear.ok && dear.reason === 'over_budget');
    for (let call = 0; call < 50; call++) assert.ok((await budget.tryConsume(1, now)).ok, `cheap call ${call}`);
    assert.ok(!(await budget.tryConsume(1, now)).ok);
    assert.deepEqual(await ledgerOf(now), { reserved_units: 150, exhausted_at: null });
  });

  it('starts from nothing at the Pacific midnight, in every process, after a spent day and after quotaExceeded', async () => {
    let now = dayAt(3);
    const a = await open(now, { limit: 30, chunk: 20 });
    const b = await open(now, { limit: 30, chunk: 20 });
    assert.ok((await a.tryConsume(20, now)).ok);
    assert.ok((await b.tryConsume(10, now)).ok);
    assert.ok(!(await a.tryConsume(1, now)).ok);
    assert.ok(!(await b.tryConsume(1, now)).ok);

    // One millisecond before the midnight (Pacific, not UTC): still the spent day.
    const midnight = nextPacificMidnightMs(now);
    assert.ok(!(await a.tryConsume(1, midnight - 1)).ok);
    now = midnight;
    assert.ok((await a.tryConsume(1, now)).ok);
    assert.ok((await b.tryConsume(1, now)).ok);
    assert.deepEqual(await ledgerOf(now), { reserved_units: 30, exhausted_at: null }, 'a 20 chunk and the 10 left');
    assert.deepEqual(await ledgerOf(dayAt(3)), { reserved_units: 30, exhausted_at: null }, 'the day before is left as it was');
    assert.equal(a.snapshot(now).spentUnits, 1);
    assert.equal(a.snapshot(now).dayKey, pacificDayKey(now));

    await b.markExhausted(now);
    assert.ok(!(await b.tryConsume(1, now)).ok);
    now = nextPacificMidnightMs(now);
    assert.ok((await b.tryConsume(1, now)).ok, 'quotaExceeded ends with its day');
    assert.deepEqual(await ledgerOf(now), { reserved_units: 20, exhausted_at: null });
  });

  it('stops every process when Google says quotaExceeded to one of them, including those still holding units', async () => {
    const now = dayAt(10);
    const fleet = [await open(now, { limit: 10_000 }), await open(now, { limit: 10_000 }), await open(now, { limit: 10_000 })];
    for (const budget of fleet) assert.ok((await budget.tryConsume(1, now)).ok);
    assert.ok(fleet.every((budget) => budget.snapshot(now).heldUnits === 19));

    await fleet[0]!.markExhausted(now + 1000);
    const ledger = await ledgerOf(now);
    assert.equal(ledger?.exhausted_at, new Date(now + 1000).toISOString());
    assert.equal(ledger?.reserved_units, 60);
    for (const [index, budget] of fleet.entries()) {
      await eventually(() => (budget.snapshot(now).exhausted ? true : undefined), `process ${index} hearing of quotaExceeded`);
      const refused = await budget.tryConsume(1, now + 2000);
      assert.ok(!refused.ok && refused.reason === 'quota_exceeded', `process ${index}: ${JSON.stringify(refused)}`);
      assert.equal(budget.snapshot(now).remainingUnits, 0);
    }
    // A process that starts later reads it from the ledger.
    const late = await open(now + 3000, { limit: 10_000 });
    const refused = await late.tryConsume(1, now + 3000);
    assert.ok(!refused.ok && refused.reason === 'quota_exceeded');
  });

  it('shows the fleet\'s spend and another process\'s quotaExceeded in this process\'s quota gauges at scrape time', async () => {
    const now = dayAt(14);
    const a = await open(now, { limit: 500, chunk: 20 });
    const b = await open(now, { limit: 500, chunk: 20 });
    const registry = new Registry();
    createYouTubeMetrics(registry, b, () => now);
    const gauges = async () => {
      const values: Record<string, number> = {};
      for (const metric of await registry.getMetricsAsJSON()) {
        if (metric.name.includes('_quota_')) values[metric.name] = Number(metric.values[0]?.value);
      }
      return values;
    };
    assert.ok((await a.tryConsume(100, now)).ok);
    assert.ok((await b.tryConsume(1, now)).ok);
    assert.deepEqual(await gauges(), {
      [YOUTUBE_METRIC_NAMES.quotaUsed]: 120,
      [YOUTUBE_METRIC_NAMES.quotaHeld]: 19,
      [YOUTUBE_METRIC_NAMES.quotaRemaining]: 500 - 120 + 19,
      [YOUTUBE_METRIC_NAMES.quotaLimit]: 500,
      [YOUTUBE_METRIC_NAMES.quotaExhausted]: 0,
    });
    await a.markExhausted(now);
    const spent = await gauges();
    assert.equal(spent[YOUTUBE_METRIC_NAMES.quotaExhausted], 1);
    assert.equal(spent[YOUTUBE_METRIC_NAMES.quotaRemaining], 0);
    assert.equal(spent[YOUTUBE_METRIC_NAMES.quotaHeld], 0);
  });

  it('hands the units it holds back to the fleet at release', async () => {
    const now = dayAt(11);
    const a = await open(now, { limit: 100, chunk: 20 });
    assert.ok((await a.tryConsume(3, now)).ok);
    assert.deepEqual(await ledgerOf(now), { reserved_units: 20, exhausted_at: null });
    await a.release();
    assert.deepEqual(await ledgerOf(now), { reserved_units: 3, exhausted_at: null });
    assert.equal(a.snapshot(now).heldUnits, 0);
    // Released, it still spends (claiming again).
    assert.ok((await a.tryConsume(1, now)).ok);
    assert.deepEqual(await ledgerOf(now), { reserved_units: 23, exhausted_at: null });
  });

  it('fails closed on an unreadable ledger entry, without throwing, and quotaExceeded overwrites it', async () => {
    const now = dayAt(12);
    const bucket = await bus.kv(BUCKETS.youtubeQuota);
    const key = quotaLedgerKey(pacificDayKey(now));
    const budget = await open(now, { limit: 100 });
    for (const garbage of ['not json', '{}', JSON.stringify({ reserved_units: -50, exhausted_at: null }), JSON.stringify({ reserved_units: 'zero', exhausted_at: null }), '\u0000\u00ff']) {
      await bucket.put(key, new TextEncoder().encode(garbage));
      const result = await budget.tryConsume(1, now);
      assert.ok(!result.ok && result.reason === 'quota_unavailable', garbage);
      assert.match(result.message, /unreadable/);
    }
    await budget.markExhausted(now);
    assert.deepEqual(await ledgerOf(now), { reserved_units: 100, exhausted_at: new Date(now).toISOString() }, 'taken as the whole limit claimed');
  });

  it('refuses calls with a clear error, and does not crash, while the bus is down', async () => {
    const now = dayAt(13);
    if (busUnderTest.kind === 'memory') {
      // The memory bus is down once closed.
      const own = createMemoryBus();
      const budget = await open(now, { limit: 100 }, own);
      assert.ok((await budget.tryConsume(1, now)).ok);
      await own.close();
      const refused = await budget.tryConsume(1, now);
      assert.ok(!refused.ok && refused.reason === 'quota_unavailable', 'even with held units');
      assert.match(refused.message, /bus is not connected/);
      await budget.markExhausted(now);
      assert.equal((await budget.refresh(now)).exhausted, true);
      return;
    }
    const nats = busUnderTest.nats()!;
    const holding = await open(now, { limit: 100 });
    const fresh = await open(now, { limit: 100 });
    assert.ok((await holding.tryConsume(1, now)).ok);
    await nats.kill();
    try {
      // Before the client notices (a KV call that fails) or after (refused at once): refused either way.
      const started = Date.now();
      const refused = await fresh.tryConsume(1, now);
      assert.ok(!refused.ok && refused.reason === 'quota_unavailable', JSON.stringify(refused));
      assert.match(refused.message, /quota ledger unavailable, call refused/);
      assert.ok(Date.now() - started < 10_000);
      await eventually(() => (bus.isReady() ? undefined : true), 'the client noticing the outage');
      const held = await holding.tryConsume(1, now);
      assert.ok(!held.ok && held.reason === 'quota_unavailable');
      await holding.markExhausted(now);
      assert.equal((await holding.refresh(now)).dayKey, pacificDayKey(now));
    } finally {
      await nats.restart();
    }
    await eventually(() => (bus.isReady() ? true : undefined), 'the client reconnecting', 15_000);
    const back = await eventually(async () => ((await fresh.tryConsume(1, now)).ok ? true : undefined), 'spending again');
    assert.equal(back, true);
  });
});
