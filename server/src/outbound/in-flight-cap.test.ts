import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { openLoopbackOutbound } from '../../../test/support/loopback-outbound.js';
import { withTimeout } from '../../../test/support/with-timeout.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, encodeJson, type Bus } from '../bus/index.js';
import type { OutboundWebhooks } from './outbound-webhooks.js';

const SLOW_EVENTS = 50;
const FAST_EVENTS = 5;
const CAP = 3;
/** How long the slow receiver holds each request open. */
const HOLD_MS = 40;

/** A real receiver that counts requests open at once and every `webhook-id` it was sent. */
interface CountingReceiver {
  readonly url: string;
  /** `webhook-id` -> times received. */
  readonly received: Map<string, number>;
  /** Requests open at once, at most so far. */
  maxConcurrent(): number;
  /** Resolves once `count` distinct webhook ids have been answered. */
  answered(count: number, what: string): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(holdMs: number): Promise<CountingReceiver> {
  const received = new Map<string, number>();
  const sockets = new Set<Socket>();
  let open = 0;
  let maxOpen = 0;
  let answered = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    const id = String(req.headers['webhook-id']);
    received.set(id, (received.get(id) ?? 0) + 1);
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        open -= 1;
        answered += 1;
        res.writeHead(204).end();
        for (const waiter of waiters.filter((w) => answered >= w.count)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }, holdMs);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    maxConcurrent: () => maxOpen,
    answered: (count, what) =>
      withTimeout(
        new Promise<void>((resolve) => (answered >= count ? resolve() : waiters.push({ count, resolve }))),
        30_000,
        () => `${what}: ${answered} of ${count} answered`,
      ),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function clipEvent(channel: string, index: number): { subject: string; body: Record<string, unknown>; msgId: string } {
  const [publisher, slug] = channel.split('/') as [string, string];
  const uploadId = `up_cap_${slug}_${index}`;
  return {
    subject: SUBJECTS.clipPublished({ publisher, slug }),
    msgId: uploadId,
    body: {
      upload_id: uploadId,
      channel,
      media: { mp4: `/media/${uploadId}/clip.mp4`, hls: `/media/${uploadId}/index.m3u8`, poster: `/media/${uploadId}/poster.jpg` },
      published_at: new Date().toISOString(),
    },
  };
}

describeEachBus('outbound in-flight cap under load', (busUnderTest) => {
  let bus: Bus;
  let outbound: OutboundWebhooks;
  let slow: CountingReceiver;
  let fast: CountingReceiver;

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    slow = await startReceiver(HOLD_MS);
    fast = await startReceiver(0);
    // The process-wide default and concurrency are above the cap: the subscriber's own cap binds.
    outbound = await openLoopbackOutbound(bus, { maxInFlightPerSubscriber: 16, concurrency: 32 });
    await outbound.admin.create({ url: slow.url, events: ['clip.published'], channels: ['acme/slow'], description: 'slow', max_in_flight: CAP }, 'test');
    await outbound.admin.create({ url: fast.url, events: ['clip.published'], channels: ['acme/fast'], description: 'fast' }, 'test');
    await outbound.start();
  });

  after(async () => {
    await outbound.stop();
    await slow.close();
    await fast.close();
    await bus.close();
  });

  it(`never has more than ${CAP} deliveries open at a capped receiver, delivers all ${SLOW_EVENTS} once each, and does not starve another subscriber`, async () => {
    for (let i = 0; i < SLOW_EVENTS; i++) {
      const event = clipEvent('acme/slow', i);
      await bus.publish(event.subject, encodeJson(event.body), { msgId: event.msgId });
    }
    for (let i = 0; i < FAST_EVENTS; i++) {
      const event = clipEvent('acme/fast', i);
      await bus.publish(event.subject, encodeJson(event.body), { msgId: event.msgId });
    }

    await fast.answered(FAST_EVENTS, 'the uncapped subscriber');
    const slowDoneWhenFastDone = [...slow.received.values()].length;
    assert.ok(slowDoneWhenFastDone < SLOW_EVENTS, `the other subscriber finished while the capped one still had a backlog (${slowDoneWhenFastDone} of ${SLOW_EVENTS} sent)`);

    await slow.answered(SLOW_EVENTS, 'the capped subscriber');
    assert.equal(slow.maxConcurrent(), CAP, `at most ${CAP} in flight, and the cap was reached`);
    assert.equal(slow.received.size, SLOW_EVENTS);
    assert.deepEqual([...new Set(slow.received.values())], [1], 'every webhook-id exactly once');
    assert.equal(fast.received.size, FAST_EVENTS);
    assert.deepEqual([...new Set(fast.received.values())], [1]);
    for (const id of fast.received.keys()) assert.ok(!slow.received.has(id), 'channel filters kept the events apart');
  });
});

describeEachBus('outbound in-flight cap with two replicas', (busUnderTest) => {
  const REPLICAS = 2;
  let buses: Bus[] = [];
  let replicas: OutboundWebhooks[] = [];
  let slow: CountingReceiver;

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    // Each replica has its own connection on NATS; on the memory bus they share the process's bus.
    const shared = natsUrl ? undefined : createMemoryBus();
    buses = await Promise.all(Array.from({ length: REPLICAS }, async () => shared ?? (await createNatsBus({ url: natsUrl! }))));
    await buses[0]!.ensureStreams(Object.values(STREAMS));
    slow = await startReceiver(HOLD_MS);
    replicas = await Promise.all(buses.map((bus) => openLoopbackOutbound(bus)));
    await replicas[0]!.admin.create({ url: slow.url, events: ['clip.published'], channels: ['acme/fleet'], description: 'slow', max_in_flight: CAP }, 'test');
    for (const replica of replicas) await replica.start();
  });

  after(async () => {
    for (const replica of replicas) await replica.stop();
    await slow.close();
    for (const bus of new Set(buses)) await bus.close();
  });

  it(`counts the cap per replica: a receiver capped at ${CAP} sees at most ${REPLICAS} x ${CAP} at once, each webhook once`, async (t) => {
    for (let i = 0; i < SLOW_EVENTS; i++) {
      const event = clipEvent('acme/fleet', i);
      await buses[0]!.publish(event.subject, encodeJson(event.body), { msgId: event.msgId });
    }
    await slow.answered(SLOW_EVENTS, 'the capped subscriber');
    t.diagnostic(`most requests open at once at the receiver: ${slow.maxConcurrent()}`);
    assert.ok(slow.maxConcurrent() <= REPLICAS * CAP, `at most ${REPLICAS} x ${CAP} in flight (saw ${slow.maxConcurrent()})`);
    assert.ok(slow.maxConcurrent() > CAP, `the cap is per replica, not fleet-wide: both replicas sent at once (saw ${slow.maxConcurrent()})`);
    assert.equal(slow.received.size, SLOW_EVENTS);
    assert.deepEqual([...new Set(slow.received.values())], [1], 'every webhook-id exactly once across the replicas');
  });
});
