/**
 * The bare SSE broadcast (sse-broadcast.ts) in a process of its own, for the fan-out fleet
 * bench: one such process per replica, each holding its share of the subscribers, so the
 * baseline's subscribers are split over processes exactly as ours are over replicas.
 */
import { parentChannel } from '../support/child.js';
import { processUsage } from '../support/process-usage.js';
import { RoundProfiler } from '../support/round-profiler.js';
import type { BroadcastCommand, BroadcastMessage } from '../load/fleet-protocol.js';
import { startSseBroadcastBaseline, type SseBroadcastBaseline } from './sse-broadcast.js';

let baseline: SseBroadcastBaseline | undefined;

const profiler = new RoundProfiler();

const reply = parentChannel<BroadcastCommand>(async (message) => {
  switch (message.type) {
    case 'start':
      baseline = await startSseBroadcastBaseline(message.host);
      reply({ type: 'listening', host: baseline.host, port: baseline.port, path: baseline.path } satisfies BroadcastMessage);
      return;
    case 'frame':
      if (!baseline) throw new Error('frame before start');
      baseline.setFrame(message.frame);
      reply({ type: 'frame-set' } satisfies BroadcastMessage);
      return;
    case 'usage':
      reply(processUsage(message.gc) satisfies BroadcastMessage);
      return;
    case 'profile':
      if (message.action === 'start') await profiler.start();
      else await profiler.stop(message.path ?? `fanout-${process.pid}.cpuprofile`);
      reply({ type: 'profiled', action: message.action } satisfies BroadcastMessage);
      return;
  }
});
