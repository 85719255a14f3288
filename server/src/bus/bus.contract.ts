import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BusUnavailableError,
  KvConflictError,
  redeliveryDelayMs,
  type Bus,
  type BusMessage,
  type Consumer,
  type ConsumerOptions,
  type KvBucket,
  type KvWatchEvent,
  type MessageHandler,
  type StreamConfig,
} from './bus.js';
import { batchHandler } from './batch-handler.js';
import { KvContentionError, SKIP, typedKv, type KvCodec } from './typed-kv.js';
import { eventually } from '../../../test/support/eventually.js';
import { withTimeout } from '../../../test/support/with-timeout.js';

/** Looks inside an implementation where the `Bus` interface cannot: optional, per implementation. */
export interface BusInspector {
  /** Messages currently stored in `stream`. */
  storedMessageCount(bus: Bus, stream: string): Promise<number>;
}

/** Slack for timers: a redelivery may come this much earlier than asked (clock granularity). */
const EARLY_TOLERANCE_MS = 150;
/** Bound on every wait for something that should happen within a second or two. */
const WAIT_MS = 8_000;
/** Per test: a broken implementation fails instead of hanging the run. */
const TEST_TIMEOUT_MS = 30_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (value: string): Uint8Array => encoder.encode(value);
const read = (data: Uint8Array | undefined): string | undefined => (data === undefined ? undefined : decoder.decode(data));

let namespaceCounter = 0;

/** Fresh stream, subjects, durable and bucket names, so tests never see each other's state. */
function namespace(): {
  token: string;
  stream: string;
  subject: (suffix: string) => string;
  streamConfig: (retention: StreamConfig['retention'], overrides?: Partial<StreamConfig>) => StreamConfig;
  bucket: string;
} {
  const token = `c${process.pid.toString(36)}${Date.now().toString(36)}${(namespaceCounter++).toString(36)}`;
  const stream = token.toUpperCase();
  return {
    token,
    stream,
    subject: (suffix) => `${token}.${suffix}`,
    streamConfig: (retention, overrides = {}) => ({
      name: stream,
      subjects: [`${token}.>`],
      retention,
      maxAgeMs: 60 * 60 * 1000,
      duplicateWindowMs: 60 * 1000,
      ...overrides,
    }),
    bucket: `kv-${token}`,
  };
}


/** A promise with its resolve function outside. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Collects items and lets a test await the n-th one. */
class Inbox<T> {
  readonly items: T[] = [];
  private readonly waiters: { done: () => boolean; resolve: () => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.waiters]) {
      if (waiter.done()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  async waitFor(count: number, what: string, ms = WAIT_MS): Promise<T[]> {
    await this.waitUntil(() => this.items.length >= count, ms, () => `${what} (got ${this.items.length} of ${count})`);
    return [...this.items];
  }

  /** Waits for an item that `match` accepts: the barrier after which a test may say what did not arrive. */
  async waitForItem(match: (item: T) => boolean, what: string, ms = WAIT_MS): Promise<T[]> {
    await this.waitUntil(() => this.items.some(match), ms, () => `${what} (got ${this.items.length} items)`);
    return [...this.items];
  }

  private async waitUntil(done: () => boolean, ms: number, what: () => string): Promise<void> {
    if (done()) return;
    const reached = new Promise<void>((resolve) => this.waiters.push({ done, resolve }));
    await withTimeout(reached, ms, what);
  }
}

/** What a handler saw of one delivery. */
interface Delivery {
  readonly payload: string;
  readonly subject: string;
  readonly seq: number;
  readonly deliveryCount: number;
  readonly atMs: number;
}

function record(message: BusMessage): Delivery {
  return {
    payload: read(message.data) ?? '',
    subject: message.subject,
    seq: message.seq,
    deliveryCount: message.deliveryCount,
    atMs: Date.now(),
  };
}

/**
 * The one contract every `Bus` implementation passes. `createBus` is called before each test,
 * `teardown` (default `bus.close()`) after it; `inspector` enables the checks the interface
 * cannot observe (work-queue retention).
 */
export function busContract(
  name: string,
  createBus: () => Promise<Bus>,
  teardown: (bus: Bus) => Promise<void> = (bus) => bus.close(),
  inspector?: BusInspector,
): void {
  describe(`Bus contract: ${name}`, { timeout: 5 * 60_000 }, () => {
    let bus: Bus;
    let consumers: Consumer[] = [];

    beforeEach(async () => {
      bus = await createBus();
      consumers = [];
    });

    afterEach(async () => {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      await teardown(bus);
    });

    async function consume(options: ConsumerOptions, handler: MessageHandler): Promise<Consumer> {
      const consumer = await bus.consume(options, handler);
      consumers.push(consumer);
      return consumer;
    }

    describe('publish', () => {
      it('acknowledges with the stream name and increasing sequence numbers', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('limits')]);
        const acks = [];
        for (const n of [1, 2, 3]) acks.push(await bus.publish(ns.subject('jobs'), text(`m${n}`)));
        for (const ack of acks) {
          assert.equal(ack.stream, ns.stream);
          assert.equal(ack.duplicate, false);
        }
        assert.ok(acks[0]!.seq < acks[1]!.seq && acks[1]!.seq < acks[2]!.seq, `seqs ${acks.map((a) => a.seq).join(',')}`);
      });

      it('throws BusUnavailableError for a subject no stream captures', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('limits')]);
        await assert.rejects(bus.publish(`${ns.token}x.nowhere`, text('lost')), BusUnavailableError);
      });

      it('ensureStreams is idempotent', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const config = ns.streamConfig('workqueue');
        await bus.ensureStreams([config]);
        const first = await bus.publish(ns.subject('jobs'), text('kept'));
        await bus.ensureStreams([config]);
        await bus.ensureStreams([config]);
        const second = await bus.publish(ns.subject('jobs'), text('also kept'));
        assert.equal(second.seq, first.seq + 1, 'ensuring again must not reset the stream');
        assert.equal(bus.isReady(), true);
      });

      it('drops a repeated msg id inside the duplicate window; the consumer sees it once', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('limits')]);
        const first = await bus.publish(ns.subject('raw'), text('original'), { msgId: 'provider-msg-1' });
        const again = await bus.publish(ns.subject('raw'), text('retry'), { msgId: 'provider-msg-1' });
        const other = await bus.publish(ns.subject('raw'), text('next'), { msgId: 'provider-msg-2' });
        assert.equal(first.duplicate, false);
        assert.equal(again.duplicate, true);
        assert.equal(again.seq, first.seq, 'a duplicate reports the sequence of the stored original');
        assert.equal(other.duplicate, false);
        assert.equal(other.seq, first.seq + 1, 'nothing was stored for the duplicate');

        const inbox = new Inbox<Delivery>();
        await consume({ stream: ns.stream, durable: 'dedupe' }, (message) => inbox.push(record(message)));
        // Delivery is in stream order: had the duplicate been stored, it would arrive before `next`.
        const seen = await inbox.waitFor(2, 'both distinct messages');
        assert.deepEqual(
          seen.map((d) => d.payload),
          ['original', 'next'],
        );
      });
    });

    describe('consume', () => {
      it('delivers every message to a durable consumer in stream order', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        for (let n = 0; n < 10; n++) await bus.publish(ns.subject('jobs'), text(`before-${n}`));
        const inbox = new Inbox<Delivery>();
        await consume({ stream: ns.stream, durable: 'ordered' }, (message) => inbox.push(record(message)));
        for (let n = 0; n < 10; n++) await bus.publish(ns.subject('jobs'), text(`after-${n}`));
        const seen = await inbox.waitFor(20, 'all 20 messages');
        assert.deepEqual(
          seen.map((d) => d.payload),
          [...Array.from({ length: 10 }, (_, n) => `before-${n}`), ...Array.from({ length: 10 }, (_, n) => `after-${n}`)],
        );
        assert.deepEqual(
          seen.map((d) => d.seq),
          [...seen.map((d) => d.seq)].sort((a, b) => a - b),
        );
        assert.ok(seen.every((d) => d.deliveryCount === 1 && d.subject === ns.subject('jobs')));
      });

      it('delivers only messages matching the filter subject', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('limits')]);
        const inbox = new Inbox<Delivery>();
        await consume({ stream: ns.stream, durable: 'filtered', filterSubject: ns.subject('timers.*') }, (message) =>
          inbox.push(record(message)),
        );
        await bus.publish(ns.subject('raw.twitch'), text('skip'));
        await bus.publish(ns.subject('timers.acme'), text('take-1'));
        await bus.publish(ns.subject('raw.youtube'), text('skip'));
        await bus.publish(ns.subject('timers.other'), text('take-2'));
        const seen = await inbox.waitFor(2, 'the two matching messages');
        assert.deepEqual(
          seen.map((d) => d.payload),
          ['take-1', 'take-2'],
        );
      });

      it(
        'removes acked messages from a work-queue stream and keeps them in a limits stream',
        { timeout: TEST_TIMEOUT_MS, skip: inspector ? false : 'needs an inspector to count stored messages' },
        async () => {
          const work = namespace();
          const kept = namespace();
          await bus.ensureStreams([work.streamConfig('workqueue'), kept.streamConfig('limits')]);
          for (const n of [1, 2, 3]) {
            await bus.publish(work.subject('jobs'), text(`job-${n}`));
            await bus.publish(kept.subject('log'), text(`log-${n}`));
          }
          assert.equal(await inspector!.storedMessageCount(bus, work.stream), 3);
          const workInbox = new Inbox<Delivery>();
          const keptInbox = new Inbox<Delivery>();
          await consume({ stream: work.stream, durable: 'worker' }, (message) => workInbox.push(record(message)));
          await consume({ stream: kept.stream, durable: 'reader' }, (message) => keptInbox.push(record(message)));
          await workInbox.waitFor(3, 'work-queue deliveries');
          await keptInbox.waitFor(3, 'limits deliveries');
          await eventually(
            async () => (await inspector!.storedMessageCount(bus, work.stream)) === 0,
            'the work-queue stream to be empty after acks',
          );
          assert.equal(await inspector!.storedMessageCount(bus, kept.stream), 3);
        },
      );

      it('redelivers after nak(delayMs), not before', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const delayMs = 1_000;
        const inbox = new Inbox<Delivery>();
        await consume({ stream: ns.stream, durable: 'naks' }, (message) => {
          inbox.push(record(message));
          if (message.deliveryCount === 1) message.nak(delayMs);
        });
        await bus.publish(ns.subject('timer'), text('due later'));
        const [first, second] = await inbox.waitFor(2, 'the redelivery after nak');
        assert.equal(second!.deliveryCount, 2);
        assert.equal(second!.seq, first!.seq);
        const waited = second!.atMs - first!.atMs;
        assert.ok(waited >= delayMs - EARLY_TOLERANCE_MS, `redelivered after ${waited} ms, asked for ${delayMs}`);
        assert.ok(waited < delayMs + 3_000, `redelivered only after ${waited} ms`);
      });

      it('redelivers with deliveryCount 2 after the handler throws, with the backoff delay', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const inbox = new Inbox<Delivery>();
        await consume({ stream: ns.stream, durable: 'throws' }, (message) => {
          inbox.push(record(message));
          if (message.deliveryCount === 1) throw new Error('transient failure');
        });
        await bus.publish(ns.subject('job'), text('flaky'));
        const [first, second] = await inbox.waitFor(2, 'the redelivery after a throw');
        assert.equal(first!.deliveryCount, 1);
        assert.equal(second!.deliveryCount, 2);
        assert.equal(second!.payload, 'flaky');
        const waited = second!.atMs - first!.atMs;
        assert.ok(waited >= redeliveryDelayMs(1) - EARLY_TOLERANCE_MS, `redelivered after ${waited} ms`);
      });

      it('redelivers a message that was not acked within ackWait', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const ackWaitMs = 1_000;
        const stuck = gate();
        const inbox = new Inbox<Delivery>();
        await consume({ stream: ns.stream, durable: 'slow', ackWaitMs }, async (message) => {
          inbox.push(record(message));
          if (message.deliveryCount === 1) await stuck.promise;
        });
        try {
          await bus.publish(ns.subject('job'), text('slow'));
          const [first, second] = await inbox.waitFor(2, 'the redelivery after ack wait');
          assert.equal(second!.deliveryCount, 2);
          const waited = second!.atMs - first!.atMs;
          assert.ok(waited >= ackWaitMs - EARLY_TOLERANCE_MS, `redelivered after ${waited} ms, ack wait ${ackWaitMs}`);
        } finally {
          stuck.open();
        }
      });

      it('never runs more than maxAckPending handlers at once', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const maxAckPending = 2;
        for (let n = 0; n < 8; n++) await bus.publish(ns.subject('transcode'), text(`job-${n}`));
        let running = 0;
        let mostRunning = 0;
        const inbox = new Inbox<Delivery>();
        await consume({ stream: ns.stream, durable: 'capped', maxAckPending }, async (message) => {
          running++;
          mostRunning = Math.max(mostRunning, running);
          await sleep(40); // the work itself
          running--;
          inbox.push(record(message));
        });
        const seen = await inbox.waitFor(8, 'all jobs');
        assert.ok(mostRunning <= maxAckPending, `${mostRunning} handlers ran at once, cap ${maxAckPending}`);
        assert.equal(new Set(seen.map((d) => d.payload)).size, 8);
      });

      it('shares one durable between two consumers: each message handled once', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const inbox = new Inbox<Delivery & { worker: string }>();
        for (const worker of ['a', 'b']) {
          await consume({ stream: ns.stream, durable: 'shared' }, async (message) => {
            await sleep(5);
            inbox.push({ ...record(message), worker });
          });
        }
        for (let n = 0; n < 20; n++) await bus.publish(ns.subject('job'), text(`job-${n}`));
        await inbox.waitFor(20, 'all 20 jobs');
        // The marker comes after every job in stream order, and a redelivery before anything
        // new: once it is handled and both consumers stopped (in-flight handlers done), any
        // second delivery of a job would be in the inbox.
        await bus.publish(ns.subject('job'), text('marker'));
        await inbox.waitForItem((d) => d.payload === 'marker', 'the marker after the jobs');
        await Promise.all(consumers.map((consumer) => consumer.stop()));
        const payloads = inbox.items.map((d) => d.payload).filter((payload) => payload !== 'marker');
        assert.equal(payloads.length, 20, `handled ${payloads.length} times: ${payloads.join(',')}`);
        assert.equal(new Set(payloads).size, 20);
      });

      it('resumes a durable after stop where it left off: nothing acked again, nothing lost', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('limits')]);
        const options: ConsumerOptions = { stream: ns.stream, durable: 'resumable' };
        const firstRun = new Inbox<Delivery>();
        const first = await bus.consume(options, (message) => firstRun.push(record(message)));
        for (const n of [1, 2, 3]) await bus.publish(ns.subject('job'), text(`job-${n}`));
        await firstRun.waitFor(3, 'the first run');
        await first.stop();
        for (const n of [4, 5, 6]) await bus.publish(ns.subject('job'), text(`job-${n}`));

        const secondRun = new Inbox<Delivery>();
        await consume(options, (message) => secondRun.push(record(message)));
        const seen = await secondRun.waitFor(3, 'the messages published while stopped');
        assert.deepEqual(
          seen.map((d) => d.payload),
          ['job-4', 'job-5', 'job-6'],
        );
        // Had the stopped consumer taken (and acked) one of them, the second run would have missed it.
        assert.equal(firstRun.items.length, 3, 'a stopped consumer takes nothing');
      });

      it('stops redelivering after maxDeliver deliveries', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const inbox = new Inbox<Delivery>();
        await consume({ stream: ns.stream, durable: 'poison', maxDeliver: 2 }, (message) => {
          inbox.push(record(message));
          if (message.deliveryCount === 1 || read(message.data) === 'always fails') message.nak(50);
        });
        await bus.publish(ns.subject('job'), text('always fails'));
        await inbox.waitFor(2, 'two deliveries');
        // A probe nak'ed the same way after the second delivery: a third delivery of the poison
        // message would be due before the probe's second one.
        await bus.publish(ns.subject('job'), text('probe'));
        await inbox.waitForItem((d) => d.payload === 'probe' && d.deliveryCount === 2, "the probe's redelivery");
        assert.deepEqual(
          inbox.items.filter((d) => d.payload === 'always fails').map((d) => d.deliveryCount),
          [1, 2],
        );
      });

      it('never redelivers a terminated message', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const inbox = new Inbox<Delivery>();
        const stuck = gate();
        await consume({ stream: ns.stream, durable: 'terms', ackWaitMs: 300 }, async (message) => {
          inbox.push(record(message));
          if (read(message.data) === 'poison') message.term();
          if (read(message.data) === 'probe' && message.deliveryCount === 1) await stuck.promise;
        });
        try {
          await bus.publish(ns.subject('job'), text('poison'));
          await bus.publish(ns.subject('job'), text('fine'));
          // The probe is left unacked, so it comes again after the ack wait: had the poison
          // message been left unsettled instead of terminated, its ack wait ran out first.
          await bus.publish(ns.subject('job'), text('probe'));
          await inbox.waitForItem((d) => d.payload === 'probe' && d.deliveryCount === 2, "the probe's redelivery after the ack wait");
        } finally {
          stuck.open();
        }
        assert.deepEqual(
          inbox.items.map((d) => d.payload).filter((payload) => payload !== 'probe'),
          ['poison', 'fine'],
        );
      });
    });

    describe('consume in batches (batchHandler)', () => {
      it('hands a burst over in batches, in stream order, none larger than maxBatch, each message once', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const batches: string[][] = [];
        const all = new Inbox<string>();
        await consume(
          { stream: ns.stream, durable: 'batches', maxAckPending: 64 },
          batchHandler(async (messages) => {
            batches.push(messages.map((message) => read(message.data) ?? ''));
            for (const message of messages) all.push(read(message.data) ?? '');
            await sleep(20); // while this batch runs, the next one fills
          }, { maxBatch: 16 }),
        );
        const payloads = Array.from({ length: 100 }, (_, index) => `m${index}`);
        await Promise.all(payloads.map((payload) => bus.publish(ns.subject('job'), text(payload))));
        await all.waitFor(100, 'all 100 messages');
        const burstBatches = batches.length;
        // A redelivery comes before anything new: once the marker is handled, none is on its way.
        await bus.publish(ns.subject('job'), text('marker'));
        await all.waitForItem((payload) => payload === 'marker', 'the marker after the burst');
        assert.deepEqual(all.items, [...payloads, 'marker'], 'each message once, in stream order');
        assert.ok(batches.every((batch) => batch.length >= 1 && batch.length <= 16), `batch sizes ${batches.map((b) => b.length).join(',')}`);
        assert.ok(burstBatches < 100, `a burst should share batches, got ${burstBatches} for 100 messages`);
        if (inspector) await eventually(async () => (await inspector.storedMessageCount(bus, ns.stream)) === 0, 'every batch acked');
      });

      it('handles a lone message at once, without waiting for a batch to fill', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const inbox = new Inbox<number>();
        await consume({ stream: ns.stream, durable: 'lone' }, batchHandler(async (messages) => inbox.push(messages.length), { maxBatch: 128 }));
        const sentAt = Date.now();
        await bus.publish(ns.subject('job'), text('alone'));
        const [size] = await inbox.waitFor(1, 'the lone message');
        assert.equal(size, 1);
        assert.ok(Date.now() - sentAt < 1_000, 'a lone message is not held back');
      });

      it('keeps every message of a slow batch, and those queued behind it, from their ack wait (keepAliveMs)', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const ackWaitMs = 1_000;
        const inbox = new Inbox<Delivery>();
        await consume(
          { stream: ns.stream, durable: 'slow-batch', ackWaitMs, maxAckPending: 16 },
          batchHandler(async (messages) => {
            for (const message of messages) inbox.push(record(message));
            // The first batch outlasts the ack wait more than twice over, as a publish retried through an outage does.
            if (messages.some((message) => read(message.data) === 'slow')) await sleep(2.5 * ackWaitMs);
          }, { maxBatch: 1, keepAliveMs: ackWaitMs / 3 }),
        );
        await bus.publish(ns.subject('job'), text('slow'));
        await inbox.waitFor(1, 'the slow one');
        await bus.publish(ns.subject('job'), text('queued'));
        await inbox.waitForItem((d) => d.payload === 'queued', 'the one queued behind it');
        // A redelivery comes before anything new: once the marker is handled, none is on its way.
        await bus.publish(ns.subject('job'), text('marker'));
        await inbox.waitForItem((d) => d.payload === 'marker', 'the marker');
        assert.deepEqual(
          inbox.items.map((d) => `${d.payload}:${d.deliveryCount}`),
          ['slow:1', 'queued:1', 'marker:1'],
          'each delivered once, none after its ack wait',
        );
      });

      it('redelivers every message of a batch that threw, and only those a message nak\'ed on its own', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('workqueue')]);
        const inbox = new Inbox<Delivery>();
        await consume(
          { stream: ns.stream, durable: 'batch-fail' },
          batchHandler(async (messages) => {
            for (const message of messages) inbox.push(record(message));
            const payloads = messages.map((message) => read(message.data));
            const first = messages.every((message) => message.deliveryCount === 1);
            if (first && payloads.includes('boom')) throw new Error('the whole batch failed');
            for (const message of messages) if (read(message.data) === 'again' && message.deliveryCount === 1) message.nak(0);
          }, { maxBatch: 8 }),
        );
        await bus.publish(ns.subject('job'), text('boom'));
        await inbox.waitFor(2, 'boom twice');
        await bus.publish(ns.subject('job'), text('again'));
        await bus.publish(ns.subject('job'), text('fine'));
        await inbox.waitFor(5, 'again twice and fine once');
        // A redelivery comes before anything new: once the marker is handled, none is on its way.
        await bus.publish(ns.subject('job'), text('marker'));
        await inbox.waitForItem((d) => d.payload === 'marker', 'the marker after the batches');
        const count = (payload: string) => inbox.items.filter((d) => d.payload === payload).map((d) => d.deliveryCount);
        assert.deepEqual(count('boom'), [1, 2]);
        assert.deepEqual(count('again'), [1, 2]);
        assert.deepEqual(count('fine'), [1]);
      });
    });

    describe('readLatest', () => {
      it('pages stored messages newest first, below a sequence, without a consumer', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('limits')]);
        const acks = [];
        for (let n = 1; n <= 5; n++) acks.push(await bus.publish(ns.subject(`audit.n${n}`), text(`m${n}`)));
        const page = await bus.readLatest(ns.stream, { limit: 3 });
        assert.deepEqual(page.map((m) => read(m.data)), ['m5', 'm4', 'm3']);
        assert.deepEqual(page.map((m) => m.seq), [acks[4]!.seq, acks[3]!.seq, acks[2]!.seq]);
        assert.equal(page[0]!.subject, ns.subject('audit.n5'));
        const next = await bus.readLatest(ns.stream, { limit: 3, beforeSeq: page.at(-1)!.seq });
        assert.deepEqual(next.map((m) => read(m.data)), ['m2', 'm1']);
        assert.deepEqual(await bus.readLatest(ns.stream, { limit: 3, beforeSeq: acks[0]!.seq }), []);
      });
    });

    describe('subscribe', () => {
      it('delivers matching subjects for * and > wildcards until unsubscribed', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        await bus.ensureStreams([ns.streamConfig('limits')]);
        const oneToken = new Inbox<string>();
        const anyDepth = new Inbox<string>();
        const single = bus.subscribe(ns.subject('status.*'), (subject, data) => oneToken.push(`${subject}=${read(data)}`));
        const deep = bus.subscribe(ns.subject('status.>'), (subject, data) => anyDepth.push(`${subject}=${read(data)}`));
        try {
          await bus.publish(ns.subject('status.acme.show'), text('deep'));
          await bus.publish(ns.subject('status.acme'), text('shallow'));
          await bus.publish(ns.subject('other.acme'), text('elsewhere'));
          await anyDepth.waitFor(2, '> matches');
          await oneToken.waitFor(1, '* match');
          assert.deepEqual(anyDepth.items, [`${ns.subject('status.acme.show')}=deep`, `${ns.subject('status.acme')}=shallow`]);
          assert.deepEqual(oneToken.items, [`${ns.subject('status.acme')}=shallow`]);

          single.unsubscribe();
          // `deep` is the barrier: it matches the same publish, so it hears it when `single` would have.
          await bus.publish(ns.subject('status.later'), text('after'));
          await anyDepth.waitFor(3, '> match after the other unsubscribed');
          assert.equal(oneToken.items.length, 1, 'an unsubscribed handler is not called');
        } finally {
          single.unsubscribe();
          deep.unsubscribe();
        }
      });
    });

    describe('kv', () => {
      it('puts and gets values with increasing revisions; a missing key reads undefined', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const kv = await bus.kv(ns.bucket);
        assert.equal(kv.name, ns.bucket);
        assert.equal(await kv.get('acme/show'), undefined);
        const r1 = await kv.put('acme/show', text('v1'));
        const r2 = await kv.put('acme/show', text('v2'));
        assert.ok(r2 > r1, `revisions ${r1} then ${r2}`);
        const entry = await kv.get('acme/show');
        assert.equal(entry?.key, 'acme/show');
        assert.equal(read(entry?.value), 'v2');
        assert.equal(entry?.revision, r2);
        const sameBucket = await bus.kv(ns.bucket);
        assert.equal(read((await sameBucket.get('acme/show'))?.value), 'v2');
      });

      it('create writes a new key and refuses an existing one with KvConflictError', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const kv = await bus.kv(ns.bucket);
        const revision = await kv.create('twitch.123', text('acme/show'));
        assert.equal((await kv.get('twitch.123'))?.revision, revision);
        await assert.rejects(kv.create('twitch.123', text('other/show')), (err: unknown) => {
          assert.ok(err instanceof KvConflictError);
          assert.equal(err.bucket, ns.bucket);
          assert.equal(err.key, 'twitch.123');
          return true;
        });
        assert.equal(read((await kv.get('twitch.123'))?.value), 'acme/show');
      });

      it('update is a compare-and-set on the revision', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const kv = await bus.kv(ns.bucket);
        const r1 = await kv.put('state', text('s1'));
        const r2 = await kv.update('state', text('s2'), r1);
        assert.ok(r2 > r1);
        await assert.rejects(kv.update('state', text('stale writer'), r1), KvConflictError);
        await assert.rejects(kv.update('never-written', text('x'), r1), KvConflictError);
        const entry = await kv.get('state');
        assert.equal(read(entry?.value), 's2');
        assert.equal(entry?.revision, r2);
      });

      it('update of a deleted key conflicts; a key NATS would refuse is a RangeError on every write, and nothing is stored', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const kv = await bus.kv(ns.bucket);
        const r1 = await kv.put('gone-then-updated', text('v1'));
        await kv.delete('gone-then-updated');
        await assert.rejects(kv.update('gone-then-updated', text('v2'), r1), KvConflictError);
        assert.equal(await kv.get('gone-then-updated'), undefined);
        for (const key of ['', 'has space', '.leading', 'trailing.', 'star*', 'gt>', 'ünïcode']) {
          await assert.rejects(kv.put(key, text('x')), RangeError, `put ${JSON.stringify(key)}`);
          await assert.rejects(kv.update(key, text('x'), r1), RangeError, `update ${JSON.stringify(key)}`);
        }
        assert.deepEqual(await kv.keys(), []);
      });

      it('delete makes a key missing; create works on it again', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const kv = await bus.kv(ns.bucket);
        await kv.put('gone', text('here'));
        await kv.put('stays', text('here'));
        await kv.delete('gone');
        assert.equal(await kv.get('gone'), undefined);
        assert.deepEqual(await kv.keys(), ['stays']);
        await kv.create('gone', text('back'));
        assert.equal(read((await kv.get('gone'))?.value), 'back');
        await kv.delete('never-existed');
      });

      it('keys lists the current keys, filtered by prefix', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const kv = await bus.kv(ns.bucket);
        assert.deepEqual(await kv.keys(), []);
        await kv.put('acme/morning', text('1'));
        await kv.put('acme/evening', text('2'));
        await kv.put('other/show', text('3'));
        await kv.put('acme/morning', text('1b'));
        assert.deepEqual((await kv.keys()).sort(), ['acme/evening', 'acme/morning', 'other/show']);
        assert.deepEqual((await kv.keys('acme/')).sort(), ['acme/evening', 'acme/morning']);
        assert.deepEqual(await kv.keys('nobody/'), []);
        // Dotted keys: a prefix of whole tokens (filtered by JetStream on NATS) and one that cuts a token.
        await kv.put('acme.show.01', text('4'));
        await kv.put('acme.show.02', text('5'));
        await kv.put('acme.showtime.01', text('6'));
        await kv.put('acme.show', text('7'));
        assert.deepEqual((await kv.keys('acme.show.')).sort(), ['acme.show.01', 'acme.show.02']);
        assert.deepEqual((await kv.keys('acme.show')).sort(), ['acme.show', 'acme.show.01', 'acme.show.02', 'acme.showtime.01']);
        await kv.delete('acme.show.02');
        assert.deepEqual(await kv.keys('acme.show.'), ['acme.show.01']);
      });

      it('keys lists each key once while another writer overwrites and deletes keys', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const kv = await bus.kv(ns.bucket);
        const names = Array.from({ length: 20 }, (_, index) => `key-${index}`);
        const stable = names.filter((_, index) => index % 3 !== 0);
        for (const name of names) await kv.put(name, text('v0'));
        let writing = true;
        const writer = (async () => {
          for (let round = 1; writing; round++) {
            await Promise.all(names.map((name, index) => (index % 3 === 0 && round % 2 === 0 ? kv.delete(name) : kv.put(name, text(`v${round}`)))));
          }
        })();
        try {
          for (let listing = 0; listing < 60; listing++) {
            const keys = await kv.keys();
            assert.equal(new Set(keys).size, keys.length, `listing ${listing} named a key twice: ${keys.join(',')}`);
            for (const name of stable) assert.ok(keys.includes(name), `listing ${listing} is missing ${name}, which is never deleted`);
            for (const key of keys) assert.ok(names.includes(key), `listing ${listing} named ${key}`);
          }
        } finally {
          writing = false;
          await writer;
        }
      });

      it('watch reports changes after the call; a delete has an undefined value', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const kv = await bus.kv(ns.bucket);
        await kv.put('existing', text('old'));
        const events = new Inbox<KvWatchEvent>();
        const watch = await kv.watch((event) => events.push(event));
        try {
          const r1 = await kv.put('fresh', text('new'));
          await kv.delete('existing');
          const r3 = await kv.put('fresh', text('newer'));
          const seen = await events.waitFor(3, 'three watch events');
          assert.deepEqual(
            seen.map((e) => [e.key, read(e.value)]),
            [
              ['fresh', 'new'],
              ['existing', undefined],
              ['fresh', 'newer'],
            ],
          );
          assert.equal(seen[0]!.revision, r1);
          assert.equal(seen[2]!.revision, r3);
          assert.ok(seen[1]!.revision > r1 && seen[1]!.revision < r3);
          const stillOpen = new Inbox<KvWatchEvent>();
          const barrier = await kv.watch((event) => stillOpen.push(event));
          watch.unsubscribe();
          await kv.put('fresh', text('unwatched'));
          // The watch still open hears the put when the unsubscribed one would have.
          await stillOpen.waitFor(1, 'the put, on the watch still open');
          barrier.unsubscribe();
          assert.equal(events.items.length, 3, 'no events after unsubscribe');
        } finally {
          watch.unsubscribe();
        }
      });

      it('expires entries after the bucket ttl', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const ttlMs = 1_000;
        const kv = await bus.kv(ns.bucket, { ttlMs });
        const writtenAt = Date.now();
        await kv.put('seen.twitch-msg-1', text('1'));
        assert.equal(read((await kv.get('seen.twitch-msg-1'))?.value), '1', 'readable right after the write');
        await eventually(async () => (await kv.get('seen.twitch-msg-1')) === undefined, 'the entry to expire', ttlMs + 5_000);
        const lived = Date.now() - writtenAt;
        assert.ok(lived >= ttlMs - EARLY_TOLERANCE_MS, `expired after ${lived} ms, ttl ${ttlMs}`);
        assert.deepEqual(await kv.keys(), []);
      });
    });

    describe('typed kv update (TypedKv)', () => {
      const numbers: KvCodec<number> = { encode: (value) => text(String(value)), decode: (data) => Number(read(data)) };
      /** Records lost compare-and-sets by bucket, as a prom-client counter would count them. */
      const conflictCount = () => {
        const buckets: string[] = [];
        return { buckets, inc: ({ bucket }: { bucket: string }) => void buckets.push(bucket), get total() { return buckets.length; } };
      };

      it('concurrent updaters each land exactly once; every lost race is retried and counted', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const conflicts = conflictCount();
        const counter = typedKv(await bus.kv(ns.bucket), numbers, { conflicts, maxAttempts: 100 });
        let changes = 0;
        const writers = 20;
        const results = await Promise.all(
          Array.from({ length: writers }, () =>
            counter.update('hits', (current) => {
              changes++;
              return (current ?? 0) + 1;
            }),
          ),
        );
        assert.equal((await counter.get('hits'))?.value, writers);
        assert.deepEqual(
          results.map((result) => result.value).sort((a, b) => a! - b!),
          Array.from({ length: writers }, (_, index) => index + 1),
          'each writer wrote its own increment',
        );
        assert.equal(results.filter((result) => result.outcome === 'created').length, 1, 'one writer created the key');
        for (const result of results) assert.equal(result.previous, result.value! - 1 || undefined);
        assert.ok(conflicts.total > 0, 'the writers raced');
        assert.ok(conflicts.buckets.every((bucket) => bucket === ns.bucket), 'counted under the bucket');
        assert.equal(changes, writers + conflicts.total, 'one change per landed write plus one per lost race');
      });

      it('gives up after maxAttempts lost races with a KvContentionError naming bucket, key and attempts', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const raw = await bus.kv(ns.bucket);
        const conflicts = conflictCount();
        const counter = typedKv(raw, numbers, { conflicts, backoffMs: () => 0 });
        await raw.put('contended', text('0'));
        let changes = 0;
        await assert.rejects(
          counter.update(
            'contended',
            async (current) => {
              changes++;
              await raw.put('contended', text(String(1000 + changes))); // another writer gets in first, every time
              return (current ?? 0) + 1;
            },
            { maxAttempts: 3 },
          ),
          (err: unknown) => {
            assert.ok(err instanceof KvContentionError);
            assert.ok(err instanceof KvConflictError, 'still a KvConflictError for code that catches those');
            assert.equal(err.bucket, ns.bucket);
            assert.equal(err.key, 'contended');
            assert.equal(err.attempts, 3);
            assert.match(err.message, new RegExp(`${ns.bucket}/contended.*3 times`));
            return true;
          },
        );
        assert.equal(changes, 3);
        assert.equal(conflicts.total, 3);
        assert.equal((await counter.get('contended'))?.value, 1003, "the other writer's value stands");
      });

      it('rememberEntries: an unchanged revision is not decoded again; a write by another process is', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const raw = await bus.kv(ns.bucket);
        let decodes = 0;
        const counting: KvCodec<number> = { encode: numbers.encode, decode: (data) => (decodes++, numbers.decode(data)) };
        const counter = typedKv(raw, counting, { rememberEntries: true, backoffMs: () => 0 });
        const written = await counter.update('hot', (current) => (current ?? 0) + 1);
        assert.deepEqual(counter.rememberedEntry('hot'), { key: 'hot', value: 1, revision: written.revision });
        assert.equal((await counter.get('hot'))?.value, 1);
        assert.equal((await counter.get('hot'))?.value, 1);
        assert.equal(decodes, 0, 'its own write, read back at the same revision, is never decoded');
        const seen: Array<number | undefined> = [];
        await raw.put('hot', text('10')); // another process
        const next = await counter.update('hot', (current) => (seen.push(current), (current ?? 0) + 1), { assumed: counter.rememberedEntry('hot') });
        assert.deepEqual(seen, [1, 10], 'the stale remembered entry lost its compare-and-set, then the fresh read won');
        assert.equal(decodes, 1);
        assert.deepEqual(counter.rememberedEntry('hot'), { key: 'hot', value: 11, revision: next.revision });
        await counter.update('hot', () => undefined);
        assert.equal(counter.rememberedEntry('hot'), undefined, 'a delete forgets the key');
        assert.equal(typedKv(raw, numbers).rememberedEntry('hot'), undefined, 'off by default');
      });

      it('an absent key created by another writer between read and write: the update builds on it', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const raw = await bus.kv(ns.bucket);
        const counter = typedKv(raw, numbers, { backoffMs: () => 0 });
        const seen: Array<number | undefined> = [];
        const result = await counter.update('fresh', async (current) => {
          seen.push(current);
          if (seen.length === 1) await raw.create('fresh', text('41'));
          return (current ?? 0) + 1;
        });
        assert.deepEqual(seen, [undefined, 41]);
        assert.equal(result.outcome, 'updated');
        assert.equal(result.previous, 41);
        assert.equal(result.value, 42);
        assert.deepEqual(await counter.get('fresh'), { key: 'fresh', value: 42, revision: result.revision });
      });

      it('a deleted key reads absent and is created again; undefined deletes, SKIP writes nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const raw = await bus.kv(ns.bucket);
        const counter = typedKv(raw, numbers);
        await raw.put('gone', text('7'));
        await raw.delete('gone');
        const created = await counter.update('gone', (current) => (current ?? 0) + 1);
        assert.equal(created.outcome, 'created');
        assert.equal(created.previous, undefined);
        assert.equal(created.value, 1);

        const skipped = await counter.update('gone', () => SKIP);
        assert.deepEqual(skipped, { outcome: 'unchanged', value: 1, revision: created.revision, previous: 1 });
        assert.equal((await raw.get('gone'))?.revision, created.revision, 'SKIP wrote nothing');

        const deleted = await counter.update('gone', () => undefined);
        assert.deepEqual(deleted, { outcome: 'deleted', value: undefined, revision: undefined, previous: 1 });
        assert.equal(await raw.get('gone'), undefined);
        const absent = await counter.update('gone', () => undefined);
        assert.equal(absent.outcome, 'unchanged');
        assert.deepEqual(await raw.keys(), []);
      });

      it('starts from an assumed entry without a read; a stale one costs one lost race and a read; SKIP on it is checked on a fresh read', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const raw = await bus.kv(ns.bucket);
        let reads = 0;
        const counting: KvBucket = Object.assign(Object.create(raw) as KvBucket, {
          get: (key: string) => {
            reads++;
            return raw.get(key);
          },
        });
        const counter = typedKv(counting, numbers, { backoffMs: () => 0 });
        const seen: Array<number | undefined> = [];
        const increment = (current: number | undefined) => {
          seen.push(current);
          return (current ?? 0) + 1;
        };

        const created = await counter.update('n', increment, { assumed: null });
        assert.equal(reads, 0, 'an assumed absent key is created without a read');
        const current = await counter.update('n', increment, { assumed: { key: 'n', value: created.value!, revision: created.revision! } });
        assert.equal(reads, 0, 'an assumed current entry is updated without a read');
        assert.equal(current.value, 2);

        await raw.put('n', text('10')); // another writer
        const stale = await counter.update('n', increment, { assumed: { key: 'n', value: current.value!, revision: current.revision! } });
        assert.equal(reads, 1, 'the lost race is followed by one read');
        assert.equal(stale.value, 11);
        assert.equal(stale.previous, 10);

        reads = 0;
        seen.length = 0;
        await raw.put('n', text('20'));
        const skipped = await counter.update('n', (value) => (seen.push(value), SKIP), { assumed: { key: 'n', value: stale.value!, revision: stale.revision! } });
        assert.deepEqual(seen, [11, 20], 'decided again on what the bucket holds');
        assert.equal(reads, 1);
        assert.equal(skipped.value, 20);
      });

      it('a key the bus would refuse is a RangeError before anything is read or written; a failing change writes nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
        const ns = namespace();
        const raw = await bus.kv(ns.bucket);
        const counter = typedKv(raw, numbers);
        let changes = 0;
        for (const key of ['', 'has space', '.leading', 'trailing.', 'star*', 'gt>', 'ünïcode', '../etc/passwd\u0000', 'a'.repeat(100) + ' ']) {
          await assert.rejects(
            counter.update(key, () => ++changes),
            RangeError,
            `update ${JSON.stringify(key)}`,
          );
        }
        assert.equal(changes, 0, 'the change never ran');
        await raw.put('kept', text('5'));
        await assert.rejects(
          counter.update('kept', () => {
            throw new Error('refused by the change');
          }),
          /refused by the change/,
        );
        assert.equal((await counter.get('kept'))?.value, 5);
        assert.deepEqual(await raw.keys(), ['kept']);
      });
    });
  });
}
