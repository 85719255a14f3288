import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ERRORS } from '@tus/server';
import { Registry } from 'prom-client';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { BUCKETS, createMemoryBus, createNatsBus, type Bus } from '../bus/index.js';
import { BusUploadLocker, decideUploadLock, type BusUploadLockerOptions, type UploadLock } from './bus-upload-locker.js';
import { UPLOAD_LOCK_EVENTS_METRIC, uploadLockEvents } from './upload-lock-metric.js';

/** The counts of `live_upload_tus_lock_events_total` in `registry`, by event. */
async function lockEvents(registry: Registry): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(UPLOAD_LOCK_EVENTS_METRIC);
  if (!metric) return {};
  return Object.fromEntries((await metric.get()).values.map((value) => [String(value.labels['event']), value.value]));
}

const T0 = Date.UTC(2026, 11, 6, 12, 0);
const LEASE_MS = 10_000;
const SKEW_MS = 2_000;

describe('decideUploadLock', () => {
  const decide = (current: UploadLock | undefined, nowMs = T0) => decideUploadLock({ current, token: 'me', nowMs, leaseMs: LEASE_MS, maxClockSkewMs: SKEW_MS });
  const other = (expiresAtMs: number, releaseRequested = false): UploadLock => ({ token: 'other', expires_at_ms: expiresAtMs, release_requested: releaseRequested });

  it('takes a free lock for one lease', () => {
    assert.deepEqual(decide(undefined), { action: 'acquire', lock: { token: 'me', expires_at_ms: T0 + LEASE_MS, release_requested: false } });
  });
  it('asks a live holder to let go once, then waits', () => {
    assert.deepEqual(decide(other(T0 + 5_000)), { action: 'request-release', lock: other(T0 + 5_000, true) });
    assert.deepEqual(decide(other(T0 + 5_000, true)), { action: 'wait' });
  });
  it('respects a lease that ran out within the clock skew, and takes over one that ran out beyond it', () => {
    assert.equal(decide(other(T0 - SKEW_MS + 1, true)).action, 'wait');
    assert.deepEqual(decide(other(T0 - SKEW_MS, true)), { action: 'take-over', lock: { token: 'me', expires_at_ms: T0 + LEASE_MS, release_requested: false }, from: 'other' });
  });
  it('takes over a lease further ahead than any bounded clock would write', () => {
    assert.equal(decide(other(T0 + LEASE_MS + SKEW_MS)).action, 'request-release');
    assert.equal(decide(other(T0 + LEASE_MS + SKEW_MS + 1)).action, 'take-over');
  });
});

const UPLOAD_ID = '01KBZJ3M0G8Y6R2T5V7W9X1Z3A';

/** The `requestRelease` tus passes: here it records the ask and, when told to, unlocks as tus would after its drain delay. */
function releaseProbe() {
  const probe = { asked: 0, onAsk: undefined as (() => void) | undefined };
  return {
    probe,
    requestRelease: () => {
      probe.asked += 1;
      probe.onAsk?.();
    },
  };
}

describeEachBus('BusUploadLocker: one tus lock for two replicas', (busUnderTest) => {
  /** Replica A's and replica B's bus: one memory bus shared, or two connections to one NATS. */
  let busA: Bus;
  let busB: Bus;
  const lockers: BusUploadLocker[] = [];
  const open = async (bus: Bus, options: BusUploadLockerOptions = {}) => {
    const locker = await BusUploadLocker.open(bus, { pollMs: 50, ...options });
    lockers.push(locker);
    return locker;
  };

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    busA = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    busB = natsUrl ? await createNatsBus({ url: natsUrl }) : busA;
  });
  afterEach(async () => {
    for (const locker of lockers.splice(0)) locker.close();
    await (await busA.kv(BUCKETS.uploadLocks)).delete(UPLOAD_ID);
  });
  after(async () => {
    await busA.close();
    if (busB !== busA) await busB.close();
  });

  it('is exclusive: B gets the lock only after A unlocked, and A was asked to let go', async () => {
    const a = await open(busA);
    const b = await open(busB);
    const held = releaseProbe();
    const lockA = a.newLock(UPLOAD_ID);
    await lockA.lock(new AbortController().signal, held.requestRelease);
    let aUnlocked = false;
    held.probe.onAsk = () => {
      // As tus does: the holder's request ends a moment later and unlocks.
      setTimeout(() => {
        aUnlocked = true;
        void lockA.unlock();
      }, 200);
    };
    const lockB = b.newLock(UPLOAD_ID);
    await lockB.lock(new AbortController().signal, () => {});
    assert.equal(aUnlocked, true, 'B acquired while A still held the lock');
    assert.equal(held.probe.asked, 1);
    assert.deepEqual(b.heldUploadIds(), [UPLOAD_ID]);
    assert.deepEqual(a.heldUploadIds(), []);
    await lockB.unlock();
  });

  it('two requests of one replica exclude each other too', async () => {
    const a = await open(busA);
    const first = a.newLock(UPLOAD_ID);
    const held = releaseProbe();
    await first.lock(new AbortController().signal, held.requestRelease);
    held.probe.onAsk = () => void first.unlock();
    const second = a.newLock(UPLOAD_ID);
    await second.lock(new AbortController().signal, () => {});
    assert.equal(held.probe.asked, 1);
    await second.unlock();
  });

  it("a holder that does not let go makes the waiter fail with tus's lock timeout, and its lease is renewed past one lease", async () => {
    const registry = new Registry();
    // A lease of 1 s renewed every third of it: the holder keeps it through an event loop stalled
    // for half a second (a test run on a busy machine), which a 300 ms lease did not.
    const a = await open(busA, { leaseMs: 1_000 });
    const b = await open(busB, { leaseMs: 1_000, acquireTimeoutMs: 2_500, maxClockSkewMs: 0, events: uploadLockEvents(registry) });
    const held = releaseProbe();
    const lockA = a.newLock(UPLOAD_ID);
    await lockA.lock(new AbortController().signal, held.requestRelease);
    const started = Date.now();
    await assert.rejects(b.newLock(UPLOAD_ID).lock(new AbortController().signal, () => {}), (error) => error === ERRORS.ERR_LOCK_TIMEOUT);
    assert.ok(Date.now() - started >= 2_400, `B gave up after ${Date.now() - started} ms`);
    assert.ok(held.probe.asked >= 1);
    assert.deepEqual(a.heldUploadIds(), [UPLOAD_ID]);
    assert.deepEqual(await lockEvents(registry), { release_requested: 1, timeout: 1 });
    await lockA.unlock();
  });

  it('the lock of a holder that died (stopped renewing) is taken over once its lease ran out', async () => {
    const registry = new Registry();
    const a = await open(busA, { leaseMs: 400 });
    const b = await open(busB, { leaseMs: 400, maxClockSkewMs: 100, events: uploadLockEvents(registry) });
    await a.newLock(UPLOAD_ID).lock(new AbortController().signal, () => {});
    const diedAt = Date.now();
    // What a crash leaves: the key, with nobody renewing it or listening for release requests.
    a.close();
    const lockB = b.newLock(UPLOAD_ID);
    await lockB.lock(new AbortController().signal, () => {});
    const waitedMs = Date.now() - diedAt;
    assert.ok(waitedMs >= 300, `B took the lock ${waitedMs} ms after A died, before A's lease ran out`);
    assert.ok(waitedMs < 5_000, `B took ${waitedMs} ms`);
    assert.equal((await lockEvents(registry))['take_over'], 1);
    await lockB.unlock();
  });

  it('a holder that loses the bus ends its request before its lease can be taken over', { skip: busUnderTest.kind === 'memory' && 'the memory bus cannot be cut off' }, async () => {
    const ownBus = await createNatsBus({ url: busUnderTest.natsUrl()! });
    const registry = new Registry();
    const a = await open(ownBus, { leaseMs: 900, events: uploadLockEvents(registry) });
    const held = releaseProbe();
    await a.newLock(UPLOAD_ID).lock(new AbortController().signal, held.requestRelease);
    const cutAt = Date.now();
    await ownBus.close();
    await eventually(() => held.probe.asked === 1, 'the request told to end', 5_000, { intervalMs: 10 });
    const endedAfterMs = Date.now() - cutAt;
    assert.ok(endedAfterMs < 900, `told to end ${endedAfterMs} ms after the bus went, past its lease`);
    assert.equal((await lockEvents(registry))['renewal_lost'], 1);
  });

  it('an aborted request stops waiting at once', async () => {
    const a = await open(busA);
    const b = await open(busB);
    const lockA = a.newLock(UPLOAD_ID);
    await lockA.lock(new AbortController().signal, () => {});
    const abort = new AbortController();
    const waiting = b.newLock(UPLOAD_ID).lock(abort.signal, () => {});
    setTimeout(() => abort.abort(), 100);
    const started = Date.now();
    await assert.rejects(waiting, (error) => error === ERRORS.ERR_LOCK_TIMEOUT);
    assert.ok(Date.now() - started < 2_000);
    await lockA.unlock();
  });

  it('leaves nothing behind: after unlock the key is gone and no timer or waiter is kept', async () => {
    const a = await open(busA);
    const b = await open(busB);
    const bucket = await busA.kv(BUCKETS.uploadLocks);
    const lockA = a.newLock(UPLOAD_ID);
    await lockA.lock(new AbortController().signal, () => void lockA.unlock());
    assert.ok(await bucket.get(UPLOAD_ID));
    const lockB = b.newLock(UPLOAD_ID);
    await lockB.lock(new AbortController().signal, () => {});
    await lockB.unlock();
    await eventually(async () => (await bucket.get(UPLOAD_ID)) === undefined, 'the lock key deleted');
    assert.deepEqual(a.heldUploadIds(), []);
    assert.deepEqual(b.heldUploadIds(), []);
    assert.equal(a.waitingRequests() + b.waitingRequests(), 0);
    await assert.rejects(lockB.unlock(), /not held/);
  });
});
