import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import type { Bus } from './bus.js';
import { encodeJson } from './json.js';
import { BusLease, type BusLeaseOptions } from './lease.js';
import { createMemoryBus } from './memory.js';
import { createNatsBus } from './nats.js';
import { BUCKETS } from './subjects.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0);
const LEASE_MS = 30_000;
const SKEW_MS = 5_000;
const KEY = 'test-work';
const at = (ms: number): string => new Date(ms).toISOString();

describeEachBus('a lease on the bus', (busUnderTest) => {
  let bus: Bus;
  let clockMs = T0;
  const now = () => clockMs;
  const started: BusLease[] = [];

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((lease) => lease.stop()));
    await (await bus.kv(BUCKETS.leases)).delete(KEY);
    clockMs = T0;
  });
  after(async () => {
    await bus.close();
  });

  const lease = (name: string, options: Partial<BusLeaseOptions> = {}) =>
    BusLease.open(bus, { key: KEY, holder: name, leaseMs: LEASE_MS, maxClockSkewMs: SKEW_MS, now, ...options });

  /** A lease run as a replica runs it: `start()`ed, its work on while `onChange` says held. */
  async function replica(name: string, options: Partial<BusLeaseOptions> = {}) {
    const changes: boolean[] = [];
    const replicaLease = await lease(name, {
      renewEveryMs: 20,
      onChange: (held) => {
        changes.push(held);
      },
      ...options,
    });
    started.push(replicaLease);
    await replicaLease.start();
    return { lease: replicaLease, changes, working: () => changes.at(-1) === true };
  }

  it('gives the lease to one of two holders, renews it, and lets the other take over only once it expired', async () => {
    const a = await lease('a');
    const b = await lease('b');
    assert.equal(await a.hold(), 'acquire');
    assert.equal(await b.hold(), 'wait');
    assert.deepEqual([a.isHolder, b.isHolder], [true, false]);

    // a renews each round; b never gets in while a is alive, even past a's first expiry.
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

  it('lets exactly one of three holders win a simultaneous start', async () => {
    for (let round = 0; round < 10; round++) {
      const holders = [await lease(`x${round}`), await lease(`y${round}`), await lease(`z${round}`)];
      const outcomes = await Promise.all(holders.map((h) => h.hold()));
      assert.equal(holders.filter((h) => h.isHolder).length, 1, outcomes.join());
      assert.equal(outcomes.filter((o) => o === 'acquire').length, 1, outcomes.join());
      await Promise.all(holders.map((h) => h.release()));
    }
  });

  it('hands the lease on at once when the holder releases it, and a release by a non-holder changes nothing', async () => {
    const a = await lease('a');
    const b = await lease('b');
    assert.equal(await a.hold(), 'acquire');
    await b.release();
    assert.equal(await b.hold(), 'wait', "b's release did not free a's lease");
    await a.release();
    assert.equal(a.isHolder, false);
    assert.equal(await b.hold(), 'acquire');
  });

  it('overwrites an unreadable lease value instead of being blocked by it', async () => {
    const bucket = await bus.kv(BUCKETS.leases);
    for (const garbage of ['not json', '{"holder":"x"}', JSON.stringify({ holder: 'x', expires_at: 'tomorrow' }), JSON.stringify({ holder: '', expires_at: at(T0 + 1000) })]) {
      await bucket.put(KEY, new TextEncoder().encode(garbage));
      const a = await lease('a');
      assert.equal(await a.hold(), 'acquire', garbage);
      await a.release();
    }
    // A holder whose expiry is days ahead (a clock far out of bounds) does not block the fleet.
    await bucket.put(KEY, encodeJson({ holder: 'future', expires_at: at(T0 + 3 * 86_400_000) }));
    assert.equal(await (await lease('a')).hold(), 'take-over');
  });

  it('two started replicas: exactly one works, for many rounds', async () => {
    const a = await replica('a');
    const b = await replica('b');
    assert.deepEqual(a.changes, [true], 'the first to start works');
    assert.deepEqual(b.changes, [], 'the second stands by');
    // Many renewal rounds of both (every 20 ms), the clock moving on a lease at a time.
    for (let step = 0; step < 10; step++) {
      clockMs += LEASE_MS / 4;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    assert.deepEqual([a.changes, b.changes], [[true], []]);
    assert.deepEqual([a.lease.isHolder, b.lease.isHolder], [true, false]);
  });

  it('a stopping holder stops its work before it gives the lease back, and the standby takes over at once', async () => {
    const order: string[] = [];
    // Rounds far apart: only the watch on the released key can make the takeover quick.
    const slow = { renewEveryMs: 60_000, leaseMs: 120_000 };
    const a = await replica('a', { ...slow, onChange: (held) => void order.push(`a ${held}`) });
    const b = await replica('b', { ...slow, onChange: (held) => void order.push(`b ${held}`) });
    assert.deepEqual(order, ['a true']);
    const stoppedAt = Date.now();
    await a.lease.stop();
    assert.deepEqual(order, ['a true', 'a false'], 'stopped before the lease went');
    await eventually(() => b.lease.isHolder, 'b to take the released lease', 5_000);
    await eventually(() => order.at(-1) === 'b true', 'b to start working', 5_000);
    assert.ok(Date.now() - stoppedAt < 5_000, `took ${Date.now() - stoppedAt} ms`);
  });

  it('a holder that dies is taken over once its lease and the skew have run out (test clock)', async () => {
    // a takes the lease and never renews it again: a process killed with -9.
    const dead = await lease('dead');
    assert.equal(await dead.hold(), 'acquire');
    const b = await replica('b');
    clockMs += LEASE_MS;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(b.working(), false, 'not before the expiry plus the skew');
    clockMs += SKEW_MS;
    await eventually(() => b.working(), 'b to take over from the dead holder', 5_000);
    assert.equal(await dead.hold(), 'wait', 'the dead holder, back, is a follower');
  });

  it('work that fails to start gives the lease back to the other replica', async () => {
    let failures = 0;
    const a = await replica('a', {
      onChange: (held) => {
        if (held) {
          failures++;
          throw new Error('cannot start the work');
        }
      },
    });
    assert.ok(failures >= 1);
    assert.equal(a.lease.isHolder, false);
    const b = await replica('b');
    await eventually(() => b.working(), 'b to work instead', 5_000);
  });

  if (busUnderTest.kind === 'nats') {
    it('a holder cut off from the bus stops its work when its own lease runs out, not before', async () => {
      const server = busUnderTest.nats()!;
      const ownBus = await createNatsBus({ url: busUnderTest.natsUrl()! });
      try {
        const changes: boolean[] = [];
        const cutOff = await BusLease.open(ownBus, { key: KEY, holder: 'cut-off', leaseMs: LEASE_MS, maxClockSkewMs: SKEW_MS, now, renewEveryMs: 20, onChange: (held) => void changes.push(held) });
        await cutOff.start();
        assert.deepEqual(changes, [true]);
        await server.kill();
        try {
          clockMs += LEASE_MS - 1;
          await new Promise((resolve) => setTimeout(resolve, 200));
          assert.deepEqual(changes, [true], 'still inside its lease: keeps working');
          clockMs += 1;
          const expiredAt = Date.now();
          await eventually(() => changes.length === 2, 'the cut-off holder to stop working', 5_000);
          assert.ok(Date.now() - expiredAt < 1_000, `stopped ${Date.now() - expiredAt} ms after its lease ran out`);
          assert.deepEqual(changes, [true, false]);
        } finally {
          await server.restart();
          await eventually(() => bus.isReady() && ownBus.isReady(), 'both buses to reconnect', 10_000);
        }
        await cutOff.stop();
      } finally {
        await ownBus.close();
      }
    });
  }
});
