/**
 * Prints the top frames of a V8 CPU profile (`node --cpu-prof` writes `.cpuprofile` files) by
 * self time, and the files they are in, so a bench run under the profiler says where the time
 * went without opening DevTools (issue 26: "report the top frames before and after").
 *
 *   node --import tsx bench/support/profile-top.ts <file.cpuprofile | directory> [--top=25] [--match=substring]
 *   node --import tsx bench/support/profile-top.ts <profile> --callers=writeBuffer [--depth=4]
 *
 * A directory: its newest `.cpuprofile`. Shares are of busy (not idle) time. `--match` keeps
 * only frames whose url contains the substring (e.g. `server/src`); `--callers` shows which
 * chains of callers a frame's self time came through.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One frame (function at a place) and its self time across the profile. */
export interface FrameTime {
  readonly frame: string;
  readonly selfMs: number;
  readonly share: number;
}

/** Self time per frame (function name, file, line), most first; `share` is of all sampled time, idle included. */
export function topFrames(profile: CpuProfile, match?: string): { frames: FrameTime[]; totalMs: number; idleMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const perFrame = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    totalUs += us;
    if (functionName === '(idle)') idleUs += us;
    if (match !== undefined && !url.includes(match)) continue;
    const where = url === '' ? '' : ` ${shortUrl(url)}:${lineNumber + 1}`;
    const frame = `${functionName || '(anonymous)'}${where}`;
    perFrame.set(frame, (perFrame.get(frame) ?? 0) + us);
  }
  const frames = [...perFrame]
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { frames, totalMs: totalUs / 1000, idleMs: idleUs / 1000 };
}

/** Self time per file (`node:` internals and native frames by their name), most first. */
export function topFiles(profile: CpuProfile): FrameTime[] {
  const { frames, totalMs } = topFrames(profile);
  const perFile = new Map<string, number>();
  for (const { frame, selfMs } of frames) {
    const space = frame.lastIndexOf(' ');
    const file = space > 0 && frame.includes(':', space) ? frame.slice(space + 1).replace(/:\d+$/, '') : frame;
    perFile.set(file, (perFile.get(file) ?? 0) + selfMs);
  }
  return [...perFile].map(([frame, selfMs]) => ({ frame, selfMs, share: totalMs > 0 ? selfMs / totalMs : 0 })).sort((a, b) => b.selfMs - a.selfMs);
}

/**
 * Who calls `name` (a function name, as in the frames list): self time of the frames named so,
 * by their chain of `depth` callers, most first. Native frames (`writeBuffer`, `(garbage
 * collector)`) say little alone; their callers say which of our lines they are.
 */
export function callersOf(profile: CpuProfile, name: string, depth: number): FrameTime[] {
  const parentOf = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const perChain = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const leaf = byId.get(profile.samples[i]!)!;
    if (leaf.callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let node = parentOf.get(leaf.id); node && chain.length < depth; node = parentOf.get(node.id)) {
      const { functionName, url, lineNumber } = node.callFrame;
      chain.push(`${functionName || '(anonymous)'}${url === '' ? '' : ` ${shortUrl(url)}:${lineNumber + 1}`}`);
    }
    const key = chain.join(' < ');
    perChain.set(key, (perChain.get(key) ?? 0) + us);
  }
  return [...perChain].map(([frame, us]) => ({ frame, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 })).sort((a, b) => b.selfMs - a.selfMs);
}

function shortUrl(url: string): string {
  if (!url.startsWith('file://')) return url;
  const path = new URL(url).pathname;
  const nodeModules = path.lastIndexOf('/node_modules/');
  return nodeModules >= 0 ? path.slice(nodeModules + 1) : relative(process.cwd(), path);
}

function newestProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(path, name));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${path}`);
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const target = args.find((arg) => !arg.startsWith('--'));
  if (!target) throw new Error('usage: profile-top.ts <file.cpuprofile | directory> [--top=25] [--match=substring]');
  const top = Number(args.find((arg) => arg.startsWith('--top='))?.slice(6) ?? 25);
  const match = args.find((arg) => arg.startsWith('--match='))?.slice(8);
  const file = newestProfile(target);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const callers = args.find((arg) => arg.startsWith('--callers='))?.slice(10);
  const { frames, totalMs, idleMs } = topFrames(profile, match);
  const busyMs = totalMs - idleMs;
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  // Shares of busy time: the profile of a bench process is mostly idle while the baseline runs.
  const line = (f: FrameTime) => `  ${pct(busyMs > 0 ? f.selfMs / busyMs : 0)} ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.frame}`;
  console.log(`${file}: ${totalMs.toFixed(0)} ms sampled, idle ${pct(totalMs > 0 ? idleMs / totalMs : 0)}, busy ${busyMs.toFixed(0)} ms (shares below are of busy time)`);
  if (callers !== undefined) {
    console.log(`callers of ${callers} (self time by caller chain):`);
    for (const f of callersOf(profile, callers, Number(args.find((arg) => arg.startsWith('--depth='))?.slice(8) ?? 4)).slice(0, top)) console.log(line(f));
    process.exit(0);
  }
  console.log('top frames by self time:');
  for (const f of frames.filter((frame) => frame.frame !== '(idle)').slice(0, top)) console.log(line(f));
  if (match === undefined) {
    console.log('top files by self time:');
    for (const f of topFiles(profile).filter((file) => file.frame !== '(idle)').slice(0, 15)) console.log(line(f));
  }
}
