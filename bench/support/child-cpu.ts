import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU time of this process's own children by name, read from Linux's `/proc`, for a bench that
 * starts helper processes it does not control (the `nats-server` nodes a bench's bus runs on) and
 * wants their CPU per request beside the server's: on a two-core machine three nats-servers
 * compete with the server for the same cores, so their cost is part of what a request costs.
 * Empty (and `cpuMsOf` undefined) where `/proc` cannot be read.
 */

/** Clock ticks per second of `/proc/<pid>/stat`'s times: 100 on every Linux this runs on (USER_HZ). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly pid: number;
  readonly name: string;
  readonly parent: number;
  /** utime + stime, ms. */
  readonly cpuMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is state (field 3), so field n is fields[n - 3]: ppid 4, utime 14, stime 15.
  const parent = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(parent) || !Number.isFinite(ticks)) return undefined;
  return { pid, name: text.slice(open + 1, close), parent, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
}

/** Pids of this process's running children called `name` (the kernel's 15-character `comm`). */
export function childrenNamed(name: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat && stat.parent === process.pid && stat.name === name) found.push(pid);
  }
  return found;
}

/** CPU ms used so far by `pids` together (a process that has exited counts 0); undefined when none can be read. */
export function cpuMsOf(pids: readonly number[]): number | undefined {
  let total = 0;
  let read = 0;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (!stat) continue;
    total += stat.cpuMs;
    read++;
  }
  return read === 0 ? undefined : total;
}
