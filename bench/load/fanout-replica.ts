/**
 * One server replica for the fan-out fleet bench (bench/fanout-fleet.ts), in its own process:
 * the real `startServer` (through test/support/test-server.ts, as bench/fanout.ts runs it) on
 * the shared NATS, so a status change made on one replica reaches the SSE subscribers of all of
 * them through the bus, as in a deployment. Answers with its URL, then with its memory and CPU
 * when asked. It exits when the bench disconnects (its sockets close with it).
 */
import { startTestServer } from '../../test/support/test-server.js';
import { parentChannel } from '../support/child.js';
import { processUsage } from '../support/process-usage.js';
import { RoundProfiler } from '../support/round-profiler.js';
import type { ReplicaCommand, ReplicaMessage } from './fleet-protocol.js';

const profiler = new RoundProfiler();

const reply = parentChannel<ReplicaCommand>(async (message) => {
  switch (message.type) {
    case 'start': {
      const server = await startTestServer({
        natsUrl: message.natsUrl,
        withChannel: message.withChannel,
        coalesceMs: message.coalesceMs,
        graceMs: message.graceMs,
        env: message.env,
      });
      reply({ type: 'started', url: server.url } satisfies ReplicaMessage);
      return;
    }
    case 'usage':
      reply(processUsage(message.gc) satisfies ReplicaMessage);
      return;
    case 'profile':
      if (message.action === 'start') await profiler.start();
      else await profiler.stop(message.path ?? `fanout-${process.pid}.cpuprofile`);
      reply({ type: 'profiled', action: message.action } satisfies ReplicaMessage);
      return;
  }
});

