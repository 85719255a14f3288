import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, NatsError } from 'nats';
import { startNatsCluster, type NatsClusterHandle } from '../../../test/support/nats-cluster.js';
import type { Bus } from './bus.js';
import { createNatsBus } from './nats.js';
import { createWhenAnswered } from './nats-unanswered.js';

const timeout = () => NatsError.errorForCode(ErrorCode.Timeout);

describe('createWhenAnswered', () => {
  it('asks again while JetStream leaves the create unanswered, and returns its answer', async () => {
    let calls = 0;
    const answer = await createWhenAnswered(async () => {
      calls += 1;
      if (calls < 3) throw timeout();
      return 'created';
    });
    assert.equal(answer, 'created');
    assert.equal(calls, 3);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    await assert.rejects(
      createWhenAnswered(async () => {
        calls += 1;
        throw new Error('stream name already in use with a different configuration');
      }),
      /different configuration/,
    );
    assert.equal(calls, 1);
  });

  it('throws the timeout once the deadline has passed', async () => {
    await assert.rejects(
      createWhenAnswered(() => Promise.reject(timeout()), 300),
      (error: unknown) => error instanceof NatsError && error.code === ErrorCode.Timeout,
    );
  });

  describe('on a three-node cluster', { timeout: 120_000 }, () => {
    let cluster: NatsClusterHandle;
    before(async () => {
      cluster = await startNatsCluster();
    });
    after(async () => {
      await cluster?.stop();
    });

    it('two replicas starting at the same moment create the same streams, buckets and consumers, both', async () => {
      // Without asking again, about 1 in 6 concurrent creates of one asset went unanswered for one side.
      for (let round = 0; round < 2; round++) {
        const buses: Bus[] = await Promise.all([0, 1].map((node) => createNatsBus({ url: cluster.urls[node]!, replicas: 3 })));
        try {
          const streams = [0, 1, 2].map((i) => ({ name: `RACE_${round}_${i}`, subjects: [`race.${round}.${i}.>`], retention: 'limits' as const, maxAgeMs: 60_000, duplicateWindowMs: 60_000 }));
          await Promise.all(buses.map((bus) => bus.ensureStreams(streams)));
          await Promise.all(buses.flatMap((bus) => [0, 1, 2].map((i) => bus.kv(`race-${round}-${i}`))));
          const consumers = await Promise.all(buses.flatMap((bus) => streams.map((stream) => bus.consume({ stream: stream.name, durable: 'race' }, (message) => message.ack()))));
          await Promise.all(consumers.map((consumer) => consumer.stop()));
        } finally {
          await Promise.all(buses.map((bus) => bus.close()));
        }
      }
    });
  });
});
