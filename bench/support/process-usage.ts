import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ProcessUsage } from '../load/fleet-protocol.js';

/**
 * `gc()` without starting node with `--expose-gc` (bench children are spawned with fixed
 * flags): the flag is set at run time and the function taken from a fresh context, which
 * sees it.
 */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

let gc: (() => void) | undefined;

/**
 * This process's memory and CPU so far, for a bench's per-subscriber figures. With `collect`
 * the heap is garbage collected first (twice: weak callbacks freed by the first run are
 * reclaimed by the second), so `heapUsed` is what is held.
 */
export function processUsage(collect: boolean): ProcessUsage {
  if (collect) {
    gc ??= exposedGc();
    gc();
    gc();
  }
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return { type: 'usage', rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, cpuMs: (cpu.user + cpu.system) / 1000 };
}
