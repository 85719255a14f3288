import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, NatsError } from 'nats';

/** How long a create that JetStream left unanswered is asked again, all tries together. */
const UNANSWERED_RETRY_FOR_MS = 20_000;
const UNANSWERED_PAUSE_MS = 250;

/** A JetStream API request that got no answer in time (nats.js's request timeout). */
export function isUnanswered(err: unknown): boolean {
  return err instanceof NatsError && err.code === ErrorCode.Timeout;
}

/**
 * Runs an idempotent JetStream create (a stream, a KV bucket, a durable consumer) and asks again
 * while JetStream leaves it unanswered. On a cluster, when two replicas of a fleet that start at
 * the same moment create the same asset, the meta leader now and then answers only one of them
 * (1 in 6 concurrent creates of one KV bucket on a fresh three-node cluster, nats-server 2.9.10),
 * and the other replica's start failed on a TIMEOUT. Asked again, the create finds the asset the
 * other made, or makes it. The reads around a create (stream, bucket and consumer info) go
 * through it too: on a cluster under load their answers come as late. Any other error, and a
 * timeout past the deadline, is thrown.
 */
export async function createWhenAnswered<T>(
  create: () => Promise<T>,
  retryForMs = UNANSWERED_RETRY_FOR_MS,
  /** Other errors that mean "not yet" here (a stream the other replica's create has not made visible yet). */
  alsoRetry: (err: unknown) => boolean = () => false,
): Promise<T> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      return await create();
    } catch (err) {
      if (!(isUnanswered(err) || alsoRetry(err)) || Date.now() >= deadline) throw err;
    }
    await sleep(UNANSWERED_PAUSE_MS);
  }
}
