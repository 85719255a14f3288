import { after, before, describe } from 'node:test';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';

export interface BusUnderTest {
  readonly kind: 'memory' | 'nats';
  /** NATS URL for the NATS run; undefined for the memory run. */
  readonly natsUrl: () => string | undefined;
  /** The NATS server of the NATS run (to stop and restart it). */
  readonly nats: () => NatsServerHandle | undefined;
}

/**
 * Runs the same suite twice: on the in-memory bus and on a real `nats-server -js` started for
 * it (fresh store). Both must behave the same; that is the point of having one contract.
 */
export function describeEachBus(name: string, suite: (bus: BusUnderTest) => void): void {
  describe(`${name} (memory bus)`, () => {
    suite({ kind: 'memory', natsUrl: () => undefined, nats: () => undefined });
  });
  describe(`${name} (NATS JetStream)`, () => {
    let nats: NatsServerHandle | undefined;
    before(async () => {
      nats = await startNatsServer();
    });
    suite({ kind: 'nats', natsUrl: () => nats?.url, nats: () => nats });
    // Registered after the suite's own hooks, so it runs after them: servers close before NATS goes.
    after(async () => {
      await nats?.stop();
    });
  });
}
