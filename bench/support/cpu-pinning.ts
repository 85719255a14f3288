import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * CPU affinity for benchmarks, with util-linux `taskset` (every thread of a process: `-a`).
 * A load generator and the server it measures, each held to its own core, each get exactly one
 * core: without it the scheduler moves the client onto the server's core when a response wakes
 * it, and the server's helper threads onto the client's, so the figures measure the scheduler
 * as much as the server (a bare Koa baseline swung between 20k and 39k req/s run to run).
 */
export interface CpuPinning {
  /** What was done, for the report line. */
  readonly description: string;
  /** Puts every pinned process back on every CPU it had. */
  restore(): void;
}

function taskset(args: readonly string[]): string {
  return execFileSync('taskset', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The CPU list a process may run on now, e.g. `0,1` or `0-3`. */
function affinityOf(pid: number): string {
  const out = taskset(['-p', '-c', String(pid)]);
  return out.slice(out.lastIndexOf(':') + 1).trim();
}

/**
 * Pins each `pid` to the CPU given with it. Undefined, changing nothing, when the machine has
 * fewer CPUs than asked for or `taskset` is missing or refused.
 */
export function pinProcesses(assignments: ReadonlyArray<{ pid: number; cpu: number; name: string }>): CpuPinning | undefined {
  if (assignments.some(({ cpu }) => cpu >= availableParallelism())) return undefined;
  const previous: Array<{ pid: number; affinity: string }> = [];
  try {
    for (const { pid } of assignments) previous.push({ pid, affinity: affinityOf(pid) });
    for (const { pid, cpu } of assignments) taskset(['-a', '-p', '-c', String(cpu), String(pid)]);
  } catch {
    restore(previous);
    return undefined;
  }
  return {
    description: assignments.map(({ name, cpu }) => `${name} on CPU ${cpu}`).join(', '),
    restore: () => restore(previous),
  };
}

function restore(previous: ReadonlyArray<{ pid: number; affinity: string }>): void {
  for (const { pid, affinity } of previous) {
    try {
      taskset(['-a', '-p', '-c', affinity, String(pid)]);
    } catch {
      // The process is gone (a stopped child): nothing to put back.
    }
  }
}
