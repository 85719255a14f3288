import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { withTimeout } from '../../../../test/support/with-timeout.js';
import { STREAMS, createMemoryBus, createNatsBus, type Bus } from '../../bus/index.js';
import { createLogger, createMetrics } from '../../observability/index.js';
import { RawEventIngest } from '../../pipeline/index.js';
import { YouTubeProvider } from './youtube-provider.js';

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
    const pollers = async () => Promise.all([a, b, off].map(async ({ provider }) => (await provider.metrics.poller.get()).values[0]?.value ?? 0));
    assert.deepEqual(await pollers(), [1, 0, 0], 'live_upload_youtube_poller says which process polls');

    const stoppedAt = Date.now();
    await a.provider.stop();
    const aTicks = a.ticks.count;
    await b.ticked(1);
    assert.ok(Date.now() - stoppedAt < LEASE, `took over after ${Date.now() - stoppedAt} ms`);
    await b.ticked(4);
    assert.equal(a.ticks.count, aTicks, 'the stopped process ticks no more');
    assert.equal(off.ticks.count, 0, 'poll:false never ticks');
    assert.equal(off.provider.pollLease.isHolder, false);
    assert.deepEqual(await pollers(), [0, 1, 0]);
  });
});
