/**
 * Fan-out benchmark (issue 3): from a webhook accepted to the last of N SSE subscribers
 * receiving the resulting `status` event, for N = 1,000 and 10,000, versus a bare baseline
 * measured in the same run.
 *
 * Ours: the real `startServer` (memory bus by default; test/support/test-server.ts creates the
 * channel), N subscribers on `/api/v1/live/events?channel=acme/morning-show`. Each round is a
 * signed `channel.update` with a new title (the channel went live with a `stream.online` in
 * the unmeasured warm-up round): webhook -> verify -> durable publish -> 204, pipeline ->
 * `live.status` -> hub -> every SSE connection. The coalescing window is 100 ms (instead of
 * 2 s) and rounds are spaced beyond it, so every update is emitted at once (leading edge),
 * exactly as a first change after a quiet period is in production.
 *
 * Baseline: a bare `node:http` server holding the same N SSE responses that, on
 * `POST /trigger`, answers 204 and writes one pre-serialized frame (the bytes of a frame ours
 * sent) to all of them (bench/baselines/sse-broadcast.ts).
 *
 * Processes: the servers run in this process; the N subscribers in a separate process
 * (bench/load/sse-clients.ts: raw sockets, a byte search per chunk); the webhook / trigger is
 * sent by a third, otherwise idle process (bench/load/trigger.ts) so no busy event loop delays
 * its timestamps. All three share the machine's wall clock (`performance.timeOrigin +
 * performance.now()`); the offset between processes is estimated and printed.
 *
 * Reported per N: "time to last subscriber" per round (p50/p99 over the rounds), measured from
 * the 204 arriving (the brief's definition) and, more conservatively, from the webhook being
 * sent (ours may start the fan-out before its 204 is out, which makes "from 204" flattering);
 * per-subscriber latency p50/p99 (all subscribers of all rounds, from the 204); server CPU and
 * garbage-collection pauses per round; the heap and RSS the server holds per subscriber
 * (garbage collected after the rounds and again once the subscribers have gone, outside the
 * measured rounds); and the ours/baseline ratio of the time to the last subscriber (from
 * send). `--profile=<dir>` writes a CPU profile of each side's measured rounds alone.
 * Machine limits (open files, ephemeral ports) are checked first and reported, never faked.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../test/support/test-server.js';
import { startSseBroadcastBaseline, type SseBroadcastBaseline } from './baselines/sse-broadcast.js';
import type { SseClientMessage, SsePong, SseReady, SseRound, TriggerSent } from './load/protocol.js';
import { STREAMS } from '../server/src/bus/subjects.js';
import { busesFromArgv, startBenchBus, type BenchBus, type BenchBusKind } from './support/bench-bus.js';
import { spawnBenchChild, type BenchChild } from './support/child.js';
import { clockOffset } from './support/clock-offset.js';
import { processUsage } from './support/process-usage.js';
import { RoundProfiler } from './support/round-profiler.js';
import { fmt, fmtInt, quantiles, sleep, table, verdict } from './support/stats.js';

export interface FanoutBenchOptions {
  readonly subscribers?: readonly number[];
  /** Measured rounds per N (plus one warm-up round). */
  readonly rounds?: number;
  readonly bus?: BenchBusKind;
  /** Connections being opened at once. */
  readonly openBatch?: number;
  readonly openTimeoutMs?: number;
  readonly roundTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /**
   * Write a CPU profile of each side's measured rounds (not the connecting before them) to
   * `<profileDir>/<bus>-<N>-<side>.cpuprofile` (read with bench/support/profile-top.ts): the
   * two servers share this process, so a `--cpu-prof` of it mixes them with the subscribers'
   * setup. Off by default (the profiler costs both sides a little).
   */
  readonly profileDir?: string;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

export interface FanoutTargetResult {
  readonly opened: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly openMs: number;
  readonly rounds: number;
  /** Subscribers that did not get a round's event in time, summed over rounds. */
  readonly missing: number;
  readonly lastFrom204: Percentiles;
  readonly lastFromSend: Percentiles;
  readonly perSubscriberFrom204: Percentiles;
  /** Server process CPU per round (ms). */
  readonly serverCpuMsPerRound: number;
  /** Garbage-collection pauses of the server process inside the rounds (trigger sent to the last subscriber's report), per round (ms). */
  readonly serverGcMsPerRound: number;
  /**
   * What the server holds per subscriber: this process's heap and RSS with the subscribers
   * connected (after the rounds) minus once they have all gone, both garbage collected first,
   * over the subscribers (bytes). RSS is rough: freed pages are not all returned at once.
   */
  readonly memoryPerSubscriber: { readonly heapUsed: number; readonly rss: number };
  /** The larger estimated wall-clock offset of the helper processes (corrected for; printed as a sanity check). */
  readonly clockOffsetMs: number;
}

export interface FanoutRow {
  readonly subscribers: number;
  readonly ours?: FanoutTargetResult;
  readonly baseline?: FanoutTargetResult;
  /** Ours / baseline, time to the last subscriber from send, p50 and p99. */
  readonly ratioP50?: number;
  readonly ratioP99?: number;
  /** Why this N was not (fully) measured: a machine limit, stated plainly. */
  readonly limit?: string;
}

export interface FanoutBenchResult {
  readonly rows: FanoutRow[];
  readonly bus: BenchBusKind;
  readonly rounds: number;
  readonly fdLimit: number | undefined;
  readonly portRange: number | undefined;
}

/** Goal (issue 3): p99 of the time to the last of 10,000 subscribers under 200 ms. */
export const FANOUT_GOAL = { subscribers: 10_000, p99Ms: 200 } as const;
const COALESCE_MS = 100;
/** Pause after a round is complete (its event was emitted before it arrived): the next update is outside the window. */
const ROUND_PAUSE_MS = COALESCE_MS + 30;

type ClientsChild = BenchChild<SseClientMessage>;

function openFileLimit(): number | undefined {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out);
  } catch {
    return undefined;
  }
}

function ephemeralPorts(): number | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return high! - low! + 1;
  } catch {
    return undefined;
  }
}

/** A plain statement of the machine limit N would hit, or undefined when it fits. */
function machineLimit(n: number, fdLimit: number | undefined, ports: number | undefined): string | undefined {
  const fdsNeeded = n + 256;
  if (fdLimit !== undefined && fdLimit < fdsNeeded) {
    return `needs about ${fdsNeeded} open files in each of the server and subscriber processes but \`ulimit -n\` is ${fdLimit}; raise it (e.g. \`ulimit -n ${Math.max(65_536, fdsNeeded)}\`) and rerun`;
  }
  if (ports !== undefined && ports < n + 1_000) {
    return `needs ${n} ephemeral ports towards one server port but net.ipv4.ip_local_port_range allows ${ports}`;
  }
  return undefined;
}

interface Target {
  readonly name: 'ours' | 'baseline';
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Event streams the server holds open now (the previous side's close on the server a moment after its subscribers left). */
  readonly openStreams: () => number;
  /** The request that makes the server emit one status event (`warmup`: the unmeasured round 0). */
  readonly request: (round: number) => { url: string; headers: Record<string, string>; body: string };
}

let triggerIds = 0;

async function measureTarget(
  target: Target,
  n: number,
  trigger: BenchChild<TriggerSent | SsePong>,
  options: Required<Omit<FanoutBenchOptions, 'subscribers' | 'bus' | 'log' | 'profileDir'>>,
  log: (line: string) => void,
  profile: string | undefined,
): Promise<{ result: FanoutTargetResult; sampleFrame: string | undefined }> {
  const clients: ClientsChild = spawnBenchChild<SseClientMessage>(new URL('./load/sse-clients.ts', import.meta.url));
  try {
    clients.send({ type: 'open', host: target.host, port: target.port, path: target.path, connections: n, batch: options.openBatch, timeoutMs: options.openTimeoutMs });
    const ready = await clients.next((m): m is SseReady => m.type === 'ready', options.openTimeoutMs + 10_000);
    log(`  ${target.name} ${fmtInt(n)}: ${fmtInt(ready.open)} subscribers ready in ${fmtInt(ready.elapsedMs)} ms` + (ready.failed ? `, ${fmtInt(ready.failed)} FAILED (${ready.firstError})` : ''));
    const offset = await clockOffset(clients);
    const triggerOffset = await clockOffset(trigger);
    if (Math.max(Math.abs(offset), Math.abs(triggerOffset)) > 1) {
      log(`  note: helper clocks differ from ours by ${fmt(offset, 2)} / ${fmt(triggerOffset, 2)} ms (corrected for)`);
    }

    const lastFrom204: number[] = [];
    const lastFromSend: number[] = [];
    const perSubscriber: Float64Array[] = [];
    let missing = 0;
    let cpuMs = 0;
    let sampleFrame: string | undefined;
    const profiler = profile === undefined ? undefined : new RoundProfiler();
    const gcPauses: Array<{ readonly start: number; readonly duration: number }> = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcPauses.push({ start: entry.startTime, duration: entry.duration });
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const roundWindows: Array<readonly [number, number]> = [];
    for (let round = 0; round <= options.rounds; round++) {
      if (round === 1) await profiler?.start();
      await sleep(ROUND_PAUSE_MS);
      clients.send({ type: 'arm', round, timeoutMs: options.roundTimeoutMs });
      await clients.next((m): m is Extract<SseClientMessage, { type: 'armed' }> => m.type === 'armed' && m.round === round, 10_000);
      const id = ++triggerIds;
      const cpuBefore = process.cpuUsage();
      const windowStart = performance.now();
      trigger.send({ type: 'send', id, ...target.request(round) });
      const [sent, report] = await Promise.all([
        trigger.next((m): m is TriggerSent => m.type === 'sent' && m.id === id, options.roundTimeoutMs + 10_000),
        clients.next((m): m is SseRound => m.type === 'round' && m.round === round, options.roundTimeoutMs + 10_000),
      ]);
      const cpu = process.cpuUsage(cpuBefore);
      const sentAt = sent.sentAt - triggerOffset;
      const answeredAt = sent.answeredAt - triggerOffset;
      if (sent.status !== 204) throw new Error(`${target.name}: the trigger was answered ${sent.status}, not 204`);
      sampleFrame = report.sampleFrame ?? sampleFrame;
      if (round === 0) continue; // warm-up
      roundWindows.push([windowStart, performance.now()]);
      cpuMs += (cpu.user + cpu.system) / 1000;
      missing += report.missing;
      if (report.receivedAt.length === 0) continue;
      // Child clock -> our clock.
      let last = Number.NEGATIVE_INFINITY;
      const latencies = new Float64Array(report.receivedAt.length);
      for (let i = 0; i < report.receivedAt.length; i++) {
        const at = report.receivedAt[i]! - offset;
        if (at > last) last = at;
        latencies[i] = at - answeredAt;
      }
      perSubscriber.push(latencies);
      lastFrom204.push(last - answeredAt);
      lastFromSend.push(last - sentAt);
    }
    if (profiler) await profiler.stop(profile!);
    await sleep(20); // the observer hears of a collection a moment after it
    gcObserver.disconnect();
    const gcMs = gcPauses.reduce((sum, pause) => (roundWindows.some(([from, to]) => pause.start >= from && pause.start <= to) ? sum + pause.duration : sum), 0);
    const memoryHeld = processUsage(true);
    clients.send({ type: 'close' });
    await clients.next((m): m is Extract<SseClientMessage, { type: 'closed' }> => m.type === 'closed', 30_000);
    // What the subscribers held is what the server frees once their streams are gone (both
    // servers live in this process, so a reading before connecting would count the other side's leftovers).
    for (const deadline = Date.now() + 30_000; target.openStreams() > 0 && Date.now() < deadline; ) await sleep(50);
    await sleep(200);
    const memoryFreed = processUsage(true);

    const pooled = new Float64Array(perSubscriber.reduce((sum, a) => sum + a.length, 0));
    let at = 0;
    for (const part of perSubscriber) {
      pooled.set(part, at);
      at += part.length;
    }
    const pct = (values: ArrayLike<number>): Percentiles => {
      const [p50, p99] = quantiles(values, [0.5, 0.99]);
      return { p50: p50!, p99: p99! };
    };
    return {
      sampleFrame,
      result: {
        opened: ready.open,
        failed: ready.failed,
        firstError: ready.firstError,
        openMs: ready.elapsedMs,
        rounds: options.rounds,
        missing,
        lastFrom204: pct(lastFrom204),
        lastFromSend: pct(lastFromSend),
        perSubscriberFrom204: pct(pooled),
        serverCpuMsPerRound: cpuMs / options.rounds,
        serverGcMsPerRound: gcMs / options.rounds,
        memoryPerSubscriber: { heapUsed: (memoryHeld.heapUsed - memoryFreed.heapUsed) / ready.open, rss: (memoryHeld.rss - memoryFreed.rss) / ready.open },
        clockOffsetMs: Math.max(Math.abs(offset), Math.abs(triggerOffset)),
      },
    };
  } finally {
    await clients.stop();
  }
}

export function formatFanout(result: FanoutBenchResult): string {
  const lines = [
    `fanout: ${result.rounds} rounds per N (+1 warm-up), bus ${result.bus}; subscribers in a separate process; ulimit -n ${result.fdLimit ?? '?'}, ${result.portRange ?? '?'} ephemeral ports`,
  ];
  const rows: string[][] = [
    ['N', 'target', 'ready', 'to last p50/p99 ms (from 204)', 'to last p50/p99 ms (from send)', 'per-sub p50/p99 ms (from 204)', 'missed', 'srv CPU ms/round', 'srv GC ms/round', 'KiB/sub heap (RSS)'],
  ];
  const pp = (p: Percentiles) => `${fmt(p.p50)} / ${fmt(p.p99)}`;
  for (const row of result.rows) {
    for (const [name, side] of [['ours', row.ours], ['baseline', row.baseline]] as const) {
      if (!side) {
        rows.push([fmtInt(row.subscribers), name, 'not run', '', '', '', '', '', '', '']);
        continue;
      }
      rows.push([
        fmtInt(row.subscribers),
        name,
        `${fmtInt(side.opened)}${side.failed ? ` (${fmtInt(side.failed)} failed)` : ''}`,
        pp(side.lastFrom204),
        pp(side.lastFromSend),
        pp(side.perSubscriberFrom204),
        fmtInt(side.missing),
        fmt(side.serverCpuMsPerRound),
        fmt(side.serverGcMsPerRound),
        `${fmt(side.memoryPerSubscriber.heapUsed / 1024)} (${fmt(side.memoryPerSubscriber.rss / 1024)})`,
      ]);
    }
  }
  lines.push(table(rows));
  for (const row of result.rows) {
    if (row.ratioP50 !== undefined) {
      lines.push(`ratio ours/baseline at ${fmtInt(row.subscribers)}, time to last subscriber from send: p50 ${fmt(row.ratioP50, 2)}x, p99 ${fmt(row.ratioP99 ?? Number.NaN, 2)}x (1.0 = as fast as the bare broadcast)`);
    }
    if (row.limit) lines.push(`LIMIT at ${fmtInt(row.subscribers)}: ${row.limit}`);
  }
  const goalRow = result.rows.find((row) => row.subscribers === FANOUT_GOAL.subscribers);
  const ours = goalRow?.ours;
  const complete = ours !== undefined && ours.opened === FANOUT_GOAL.subscribers && ours.missing === 0;
  lines.push(
    `goal: p99 time to the last of ${fmtInt(FANOUT_GOAL.subscribers)} subscribers < ${FANOUT_GOAL.p99Ms} ms: ` +
      (ours === undefined
        ? `n/a (not measured${goalRow?.limit ? `: ${goalRow.limit}` : ''})`
        : `from 204 ${fmt(ours.lastFrom204.p99)} ms ${verdict(complete && ours.lastFrom204.p99 < FANOUT_GOAL.p99Ms)}; ` +
          `from send ${fmt(ours.lastFromSend.p99)} ms ${verdict(complete && ours.lastFromSend.p99 < FANOUT_GOAL.p99Ms)}` +
          (complete ? '' : ' (not every subscriber connected or received every round: MISS)')),
  );
  return lines.join('\n');
}

/** Above the largest N (10,000) measured here: the connection caps must not refuse the bench's own subscribers. */
const MAX_SUBSCRIBERS_CAP = 100_000;

export async function runFanoutBench(options: FanoutBenchOptions = {}): Promise<FanoutBenchResult> {
  const settings = {
    rounds: options.rounds ?? 20,
    openBatch: options.openBatch ?? 200,
    openTimeoutMs: options.openTimeoutMs ?? 60_000,
    roundTimeoutMs: options.roundTimeoutMs ?? 10_000,
  };
  const bus = options.bus ?? 'memory';
  const log = options.log ?? ((line: string) => console.log(line));
  const fdLimit = openFileLimit();
  const portRange = ephemeralPorts();
  const trigger = spawnBenchChild<TriggerSent | SsePong>(new URL('./load/trigger.ts', import.meta.url));
  let started: BenchBus | undefined;
  let server: TestServer | undefined;
  let baseline: SseBroadcastBaseline | undefined;
  const rows: FanoutRow[] = [];
  try {
    started = await startBenchBus(bus);
    // Every subscriber comes from 127.0.0.1: the caps are raised above N, and still counted on every connection.
    server = await startTestServer({
      coalesceMs: COALESCE_MS,
      graceMs: 30_000,
      ...(started.serverOptions.natsUrl === undefined ? {} : { natsUrl: started.serverOptions.natsUrl }),
      env: { ...started.serverOptions.env, SSE_MAX_CONNECTIONS: String(MAX_SUBSCRIBERS_CAP), SSE_MAX_CONNECTIONS_PER_CLIENT: String(MAX_SUBSCRIBERS_CAP) },
    });
    if (bus === 'nats-cluster') log(`  ${bus}: ${STREAMS.liveStatus.name} kept in ${await started.replicasOf(STREAMS.liveStatus.name)} copies`);
    baseline = await startSseBroadcastBaseline();
    const running = server;
    const base = baseline;
    const url = new URL(running.url);
    let wentLive = false;
    const ours: Target = {
      name: 'ours',
      host: url.hostname,
      port: Number(url.port),
      path: `/api/v1/live/events?channel=${TEST_CHANNEL}`,
      openStreams: () => running.running.app.sseConnections.size + base.connections(),
      request: (round) => {
        const twitchRequest =
          !wentLive && round === 0 ? running.twitch.streamOnline() : running.twitch.channelUpdate({ title: `fanout ${triggerIds} round ${round}` });
        wentLive = true;
        return { url: `${running.url}/webhooks/twitch`, headers: { ...twitchRequest.headers }, body: twitchRequest.body };
      },
    };
    const bare: Target = {
      name: 'baseline',
      host: base.host,
      port: base.port,
      path: base.path,
      openStreams: () => running.running.app.sseConnections.size + base.connections(),
      request: () => ({ url: `http://${base.host}:${base.port}/trigger`, headers: {}, body: '' }),
    };

    for (const n of options.subscribers ?? [1_000, 10_000]) {
      const limit = machineLimit(n, fdLimit, portRange);
      if (limit) {
        log(`  ${fmtInt(n)}: SKIPPED: ${limit}`);
        rows.push({ subscribers: n, limit });
        continue;
      }
      let oursResult: FanoutTargetResult | undefined;
      let baselineResult: FanoutTargetResult | undefined;
      let failure: string | undefined;
      const profileOf = (side: Target['name']) => (options.profileDir === undefined ? undefined : join(options.profileDir, `${bus}-${n}-${side}.cpuprofile`));
      try {
        const measured = await measureTarget(ours, n, trigger, settings, log, profileOf('ours'));
        oursResult = measured.result;
        if (measured.sampleFrame) base.setFrame(measured.sampleFrame);
        baselineResult = (await measureTarget(bare, n, trigger, settings, log, profileOf('baseline'))).result;
      } catch (error) {
        failure = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        log(`  ${fmtInt(n)}: FAILED: ${failure}`);
      }
      const opened = [oursResult, baselineResult].find((side) => side && side.failed > 0);
      rows.push({
        subscribers: n,
        ...(oursResult ? { ours: oursResult } : {}),
        ...(baselineResult ? { baseline: baselineResult } : {}),
        ...(oursResult && baselineResult
          ? { ratioP50: oursResult.lastFromSend.p50 / baselineResult.lastFromSend.p50, ratioP99: oursResult.lastFromSend.p99 / baselineResult.lastFromSend.p99 }
          : {}),
        ...(failure || opened
          ? { limit: failure ?? `only ${fmtInt(opened!.opened)} of ${fmtInt(n)} connections opened: ${opened!.firstError}` }
          : {}),
      });
    }
  } finally {
    await baseline?.close();
    await server?.close();
    await started?.stop();
    await trigger.stop();
  }
  return { rows, bus, rounds: settings.rounds, fdLimit, portRange };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const subscribers = args.find((arg) => arg.startsWith('--subscribers='))?.slice('--subscribers='.length).split(',').map(Number);
  const profileDir = args.find((arg) => arg.startsWith('--profile='))?.slice('--profile='.length);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  for (const bus of busesFromArgv(args) ?? ['memory']) {
    console.log(formatFanout(await runFanoutBench({ bus, ...(subscribers ? { subscribers } : {}), ...(profileDir === undefined ? {} : { profileDir }) })));
  }
}
