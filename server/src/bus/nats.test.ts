import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'nats';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';
import { BusUnavailableError, type Bus, type BusMessage } from './bus.js';
import { busContract, type BusInspector } from './bus.contract.js';
import { createNatsBus } from './nats.js';
import { eventually } from '../../../test/support/eventually.js';
import { withTimeout } from '../../../test/support/with-timeout.js';

const decoder = new TextDecoder();
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const read = (message: BusMessage): string => decoder.decode(message.data);

/** Bound on waits for deliveries and reconnects. */
const WAIT_MS = 15_000;

describe('NATS JetStream bus', { timeout: 10 * 60_000 }, () => {
  let server: NatsServerHandle;

  before(async () => {
    server = await startNatsServer();
  });

  after(async () => {
    await server?.stop();
  });

  const inspector: BusInspector = {
    async storedMessageCount(_bus, stream) {
      const nc = await connect({ servers: server.url });
      try {
        const jsm = await nc.jetstreamManager();
        return (await jsm.streams.info(stream)).state.messages;
      } finally {
        await nc.close();
      }
    },
  };

  busContract('nats', () => createNatsBus({ url: server.url, name: 'bus-contract' }), undefined, inspector);

  describe('outages', () => {
    let counter = 0;
    const unique = (): string => `outage${process.pid.toString(36)}${Date.now().toString(36)}${counter++}`;

    it(
      'a publish while the server is down throws BusUnavailableError within seconds; messages stored before are consumed exactly once after restart',
      { timeout: 60_000 },
      async () => {
        const bus = await createNatsBus({ url: server.url, name: 'outage-test' });
        try {
          const token = unique();
          await bus.ensureStreams([
            { name: token.toUpperCase(), subjects: [`${token}.>`], retention: 'workqueue', maxAgeMs: 0, duplicateWindowMs: 60_000 },
          ]);
          // A consumer that is running when the server crashes.
          const live = await waitForPayload(bus, { stream: token.toUpperCase(), durable: 'live', filterSubject: `${token}.live` }, 'after');
          // Jobs stored before the crash, with nobody consuming them yet.
          for (let n = 0; n < 5; n++) await bus.publish(`${token}.jobs`, text(`job-${n}`), { msgId: `job-${n}` });

          await server.kill();
          const started = Date.now();
          await assert.rejects(bus.publish(`${token}.jobs`, text('during'), { msgId: 'during' }), BusUnavailableError);
          const tookMs = Date.now() - started;
          assert.ok(tookMs < 4_000, `publish failed only after ${tookMs} ms`);
          await eventually(() => !bus.isReady(), 'isReady() to turn false', WAIT_MS);

          await server.restart();
          await eventually(() => bus.isReady(), 'the bus to reconnect', WAIT_MS);

          const seen: string[] = [];
          let resolveAll = (): void => undefined;
          const allJobs = new Promise<void>((resolve) => (resolveAll = resolve));
          const jobs = await bus.consume({ stream: token.toUpperCase(), durable: 'jobs', filterSubject: `${token}.jobs` }, (message) => {
            seen.push(read(message));
            if (seen.length === 5) resolveAll();
          });
          await withTimeout(allJobs, WAIT_MS, () => `the 5 stored jobs (got ${seen.join(',')})`);
          await bus.publish(`${token}.live`, text('after'));
          await withTimeout(live.received, WAIT_MS, () => 'the running consumer to get a message after the restart');
          // A redelivery comes before anything new: once the marker is handled, none is on its way.
          await bus.publish(`${token}.jobs`, text('marker'));
          await eventually(() => seen.includes('marker'), 'the marker after the stored jobs', WAIT_MS);
          assert.deepEqual(seen.filter((payload) => payload !== 'marker').sort(), ['job-0', 'job-1', 'job-2', 'job-3', 'job-4']);
          await jobs.stop();
          await live.consumer.stop();
        } finally {
          await bus.close();
        }
      },
    );

    it('a running consumer resumes after a server restart and gets what is published afterwards', { timeout: 60_000 }, async () => {
      const bus = await createNatsBus({ url: server.url, name: 'restart-test' });
      try {
        const token = unique();
        const stream = token.toUpperCase();
        await bus.ensureStreams([{ name: stream, subjects: [`${token}.>`], retention: 'workqueue', maxAgeMs: 0, duplicateWindowMs: 60_000 }]);
        const seen: string[] = [];
        const waiters: { count: number; resolve: () => void }[] = [];
        const consumer = await bus.consume({ stream, durable: 'steady' }, (message) => {
          seen.push(read(message));
          for (const waiter of waiters) if (seen.length >= waiter.count) waiter.resolve();
        });
        const until = (count: number): Promise<void> =>
          withTimeout(
            new Promise<void>((resolve) => (seen.length >= count ? resolve() : waiters.push({ count, resolve }))),
            WAIT_MS,
            () => `${count} deliveries (got ${seen.join(',')})`,
          );
        for (const n of [1, 2, 3]) await bus.publish(`${token}.job`, text(`before-${n}`));
        await until(3);

        await server.restart();
        await eventually(() => bus.isReady(), 'the bus to reconnect', WAIT_MS);
        for (const n of [1, 2, 3]) await bus.publish(`${token}.job`, text(`after-${n}`));
        await until(6);
        // A redelivery comes before anything new: once the marker is handled, none is on its way.
        await bus.publish(`${token}.job`, text('marker'));
        await eventually(() => seen.includes('marker'), 'the marker after the jobs', WAIT_MS);
        seen.splice(seen.indexOf('marker'), 1);
        const after = seen.filter((payload) => payload.startsWith('after-'));
        assert.deepEqual(after, ['after-1', 'after-2', 'after-3']);
        assert.deepEqual([...new Set(seen)].sort(), ['after-1', 'after-2', 'after-3', 'before-1', 'before-2', 'before-3']);
        await consumer.stop();
      } finally {
        await bus.close();
      }
    });

    it('fails fast with BusUnavailableError when no server answers at start', { timeout: 30_000 }, async () => {
      await assert.rejects(createNatsBus({ url: 'nats://127.0.0.1:1' }), BusUnavailableError);
    });
  });
});

/** Starts a consumer that resolves `received` once it handles a message with `payload`. */
async function waitForPayload(
  bus: Bus,
  options: { stream: string; durable: string; filterSubject: string },
  payload: string,
): Promise<{ consumer: { stop(): Promise<void> }; received: Promise<void> }> {
  let resolve = (): void => undefined;
  const received = new Promise<void>((done) => (resolve = done));
  const consumer = await bus.consume(options, (message) => {
    if (read(message) === payload) resolve();
  });
  return { consumer, received };
}
