import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { withTimeout } from '../../../../test/support/with-timeout.js';
import { BUCKETS, STREAMS, createMemoryBus, createNatsBus, encodeJson, type Bus } from '../../bus/index.js';
import { createLogger, createMetrics } from '../../observability/index.js';
import { RawEventIngest } from '../../pipeline/index.js';
import { PollLeaseHolder, YOUTUBE_POLLER_LEASE_KEY, decidePollLease, type PollLease } from './poll-lease.js';
import { YouTubeProvider } from './youtube-provider.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0);
const LEASE_MS = 30_000;
const SKEW_MS = 5_000;
const at = (ms: number): string => new Date(ms).toISOString();

describe('decidePollLease', () => {
  const decide = (current: PollLease | undefined, nowMs = T0) => decidePollLease({ current, me: 'me', nowMs, leaseMs: LEASE_MS, maxClockSkewMs: SKEW_MS });
  const mine = { holder: 'me', expires_at: at(T0 + LEASE_MS) };

  const table: ReadonlyArray<{ name: string; current: PollLease | undefined; nowMs?: number; action: string }> = [
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

describeEachBus('the YouTube poller lease', (busUnderTest) => {
  let bus: Bus;
  let clockMs = T0;
  const now = () => clockMs;

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
  });
  afterEach(async () => {
    await (await bus.kv(BUCKETS.leases)).delete(YOUTUBE_POLLER_LEASE_KEY);
  });
  after(async () => {
    await bus.close();
  });

  const holder = (name: string) => PollLeaseHolder.open(bus, { holder: name, leaseMs: LEASE_MS, maxClockSkewMs: SKEW_MS, now });

  it('gives the lease to one of two holders, renews it, and lets the other take over only once it expired', async () => {
    clockMs = T0;
    const a = await holder('a');
    const b = await holder('b');
    assert.equal(await a.hold(), 'acquire');
    assert.equal(await b.hold(), 'wait');
    assert.deepEqual([a.isHolder, b.isHolder], [true, false]);

    // a renews each tick; b never gets in while a is alive, even past a's first expiry.
    for (let round = 0; round < 5; round++) {
      clockMs += LEASE_MS / 2;
      assert.equal(await a.hold(), 'renew');
      assert.equal(await b.hold(), 'wait');
    }
    // a dies (stops renewing): b waits out the lease and the skew, then takes over.
    clockMs += LEASE_MS;
    assert.equal(await b.hold(), 'wait', 'inside the clock skew');
    clockMs += SKEW_MS;
    assert.equal(await b.hold(), 'take-over');
    assert.equal(await a.hold(), 'wait', 'a comes back as a follower');
    assert.deepEqual([a.isHolder, b.isHolder], [false, true]);
  });

  it('lets exactly one of two holders win a simultaneous start', async () => {
    clockMs = T0;
    for (let round = 0; round < 10; round++) {
      const holders = [await holder(`x${round}`), await holder(`y${round}`), await holder(`z${round}`)];
      const outcomes = await Promise.all(holders.map((h) => h.hold()));
      assert.equal(holders.filter((h) => h.isHolder).length, 1, outcomes.join());
      assert.equal(outcomes.filter((o) => o === 'acquire').length, 1, outcomes.join());
      await Promise.all(holders.map((h) => h.release()));
    }
  });

  it('hands the lease on at once when the holder releases it, and a release by a non-holder changes nothing', async () => {
    clockMs = T0;
    const a = await holder('a');
    const b = await holder('b');
    assert.equal(await a.hold(), 'acquire');
    await b.release();
    assert.equal(await b.hold(), 'wait', 'b\'s release did not free a\'s lease');
    await a.release();
    assert.equal(a.isHolder, false);
    assert.equal(await b.hold(), 'acquire');
  });

  it('overwrites an unreadable lease value instead of being blocked by it', async () => {
    clockMs = T0;
    const bucket = await bus.kv(BUCKETS.leases);
    for (const garbage of ['not json', '{"holder":"x"}', JSON.stringify({ holder: 'x', expires_at: 'tomorrow' }), JSON.stringify({ holder: '', expires_at: at(T0 + 1000) })]) {
      await bucket.put(YOUTUBE_POLLER_LEASE_KEY, new TextEncoder().encode(garbage));
      const a = await holder('a');
      assert.equal(await a.hold(), 'acquire', garbage);
      await a.release();
    }
    // A holder whose expiry is days ahead (a clock far out of bounds) does not block the fleet.
    await bucket.put(YOUTUBE_POLLER_LEASE_KEY, encodeJson({ holder: 'future', expires_at: at(T0 + 3 * 86_400_000) }));
    assert.equal(await (await holder('a')).hold(), 'take-over');
  });
});

describeEachBus('YouTube providers in a fleet', (busUnderTest) => {
  const POLL_INTERVAL_MS = 300;
  const LEASE = 600;
  let bus: Bus;
  const providers: YouTubeProvider[] = [];

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
  });
  after(async () => {
    for (const provider of providers) await provider.stop();
    await bus.close();
  });

  /** A provider whose ticks are counted through the channel directory it reads each tick. */
  async function openProvider(name: string) {
    const ticks = { count: 0, waiters: [] as Array<{ atLeast: number; resolve: () => void }> };
    const metrics = createMetrics();
    const provider = await YouTubeProvider.open({
      bus,
      ingest: new RawEventIngest(bus, metrics),
      directory: {
        linkedYouTubeChannelIds: async () => {
          ticks.count++;
          for (const waiter of ticks.waiters.filter((w) => ticks.count >= w.atLeast)) waiter.resolve();
          return [];
        },
      },
      registry: metrics.registry,
      logger: createLogger({ level: 'silent' }),
      hubUrl: 'http://127.0.0.1:9/subscribe',
      callbackUrl: 'http://127.0.0.1:9/webhooks/youtube',
      dataApiBaseUrl: 'http://127.0.0.1:9',
      apiKey: 'fleet-test-key',
      pollIntervalMs: POLL_INTERVAL_MS,
      pollLeaseMs: LEASE,
      pollLeaseMaxClockSkewMs: 0,
      pollLeaseHolder: name,
    });
    providers.push(provider);
    const ticked = (atLeast: number) =>
      withTimeout(new Promise<void>((resolve) => (ticks.count >= atLeast ? resolve() : ticks.waiters.push({ atLeast, resolve }))), 5_000, () => `${name} ticking ${atLeast} times (ticked ${ticks.count})`);
    return { provider, ticks, ticked };
  }

  it('ticks in one process only; when it stops the other takes over within a lease period; poll:false never ticks', async () => {
    const a = await openProvider('process-a');
    const b = await openProvider('process-b');
    const off = await openProvider('process-off');
    await a.provider.start();
    await a.ticked(1);
    await b.provider.start();
    await off.provider.start({ poll: false });
    // Several rounds of both schedules (a tick every 100 ms): only a ticks.
    await a.ticked(a.ticks.count + 6);
    assert.equal(b.ticks.count, 0, 'the follower never ticked');
    assert.equal(a.provider.pollLease.isHolder, true);
    assert.equal(b.provider.pollLease.isHolder, false);

    const stoppedAt = Date.now();
    await a.provider.stop();
    const aTicks = a.ticks.count;
    await b.ticked(1);
    assert.ok(Date.now() - stoppedAt < LEASE, `took over after ${Date.now() - stoppedAt} ms`);
    await b.ticked(4);
    assert.equal(a.ticks.count, aTicks, 'the stopped process ticks no more');
    assert.equal(off.ticks.count, 0, 'poll:false never ticks');
    assert.equal(off.provider.pollLease.isHolder, false);
  });
});
