import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds so far of each live child process of this process, by pid, with its command line. */
export interface ChildCpu {
  readonly pid: number;
  readonly cmdline: string;
  readonly cpuS: number;
}

const TICKS_PER_S = 100;

/**
 * The children of this process (the origin's ladder ffmpegs, the publisher children) and the CPU
 * each has used, from `/proc` (Linux): how `bench/origin.ts` splits the machine's CPU between
 * the origin and the load it generates. Empty where there is no `/proc`.
 */
export function childCpu(): ChildCpu[] {
  const out: ChildCpu[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) in parentheses: state ppid ... utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      const cpuS = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
      out.push({ pid: Number(pid), cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '), cpuS });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** CPU seconds used between two `childCpu` snapshots by the children alive at both whose command line matches. */
export function cpuBetween(before: readonly ChildCpu[], after: readonly ChildCpu[], matches: (cmdline: string) => boolean): number {
  let total = 0;
  for (const child of after) {
    const earlier = before.find((candidate) => candidate.pid === child.pid);
    if (earlier && matches(child.cmdline)) total += child.cpuS - earlier.cpuS;
  }
  return total;
}
