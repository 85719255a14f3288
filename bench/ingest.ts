/**
 * Ingest benchmark (issue 3): signed Twitch webhooks per second through the FULL path versus a
 * bare baseline, measured in the same run, on the memory bus, on a real NATS JetStream and on a
 * three-node JetStream cluster keeping every stream in three copies (issue 20; `--bus=` picks).
 *
 * Ours: the real `startServer` (via test/support/test-server.ts, the channel created and linked
 * to the fake broadcaster; production coalescing/grace windows), `POST /webhooks/twitch` (the
 * ingress answered ahead of Koa) -> read raw body -> verify HMAC and timestamp -> classify and
 * validate the body -> durable publish on `live.raw.twitch` -> 204, while the pipeline consumes
 * the raw stream concurrently in the same process, as a single-process deployment does (map,
 * apply to the channel state and its seen set, coalesced status emits; in batches of what
 * arrived during one event-loop turn). Logging is silent, as in the tests.
 *
 * Baseline: a bare Koa app (the server's own koa) that reads the raw body, checks the HMAC
 * with node:crypto and answers 204 (bench/baselines/koa-hmac.ts), in its own process
 * (koa-hmac-process.ts), so that neither side pays for the other's garbage collections.
 *
 * Load generator: a SEPARATE process (bench/load/webhook-load.ts), so on a 2-core machine the
 * client and the server each get a core instead of sharing one event loop. It pre-builds
 * distinct signed `channel.update` requests (unique message ids, fresh timestamps) as the bytes
 * on the wire and keeps N requests in flight over keep-alive sockets, reading back only each
 * status (with node's http client it used about a full core during the baseline, so the
 * baseline's figure was partly the client's and the ratio optimistic): warm-up, then a fixed duration
 * (or until the pre-built pool is used up). Both targets get the identical load; runs
 * alternate baseline/ours to spread machine noise, and after each run of ours the bench waits
 * (bounded) until the pipeline has consumed the backlog, so the next run starts clean.
 * Everything is loopback. The ratio is ours / baseline requests per second, per round (a run of
 * the baseline and the run of ours right after it); the verdict is on the median round. On a
 * shared machine the baseline alone moved between 14k and 36k req/s from one minute to the next:
 * a pair measured back to back shares most of that drift, and the median of three pairs is not
 * moved by one run that a neighbour's burst landed on.
 *
 * On the cluster the figure also follows where LIVE_RAW's leader and the pipeline consumer's are
 * (the server is connected to n0; a leader elsewhere puts a route hop on each publish, ack and
 * delivery): the bench prints the placement, and `--raw-leader=n1` (or n0, n2) pins both before
 * the runs, for comparing two trees on the same placement. It also prints the nats-server
 * processes' CPU per 1k webhooks, the cluster's largest cost on a 2-core machine.
 */
import { pathToFileURL } from 'node:url';
import { TEST_BROADCASTER, TEST_SECRET, startTestServer, type TestServer } from '../test/support/test-server.js';
import { pipelineEventsHandled } from '../test/support/pipeline-progress.js';
import type { BaselineProcessMessage } from './baselines/koa-hmac-process.js';
import type { WebhookLoadResult, WebhookLoadRun } from './load/protocol.js';
import { CONSUMERS, STREAMS } from '../server/src/bus/subjects.js';
import { busesFromArgv, startBenchBus, type BenchBus, type BenchBusKind } from './support/bench-bus.js';
import { spawnBenchChild, type BenchChild } from './support/child.js';
import { fmt, fmtInt, median, quantiles, sleep, table, verdict } from './support/stats.js';

export type BusKind = BenchBusKind;

export interface IngestBenchOptions {
  readonly buses?: readonly BusKind[];
  /** Requests in flight at once (keep-alive sockets). */
  readonly concurrency?: number;
  readonly warmupMs?: number;
  /** Measured window per run. */
  readonly durationMs?: number;
  /** Alternating baseline/ours pairs per bus. */
  readonly rounds?: number;
  /**
   * Pairs run first and not counted. The server under test is started afresh for each bus and
   * the baseline process once: without one, ours ran its first measured round still warming up
   * (its pipeline 10-15% slower in round 1 than in round 2, run after run).
   */
  readonly warmupRounds?: number;
  /** Pre-built requests per run at most: the hard cap on a run's count (after the first run of a target, sized from its rate). */
  readonly requestsPerRun?: number;
  /** How long to wait for the pipeline to consume a run's backlog. */
  readonly drainTimeoutMs?: number;
  /**
   * On the cluster, the node (`n0`..`n2`) made leader of LIVE_RAW and of the pipeline's consumer
   * before the runs; default: wherever the election put them. The server is connected to n0, so
   * `n0` has no route hop and `n1`/`n2` the one most of a fleet's replicas have (`--raw-leader=`).
   */
  readonly rawLeader?: string;
  readonly log?: (line: string) => void;
}

export interface IngestSide {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly failures: Record<string, number>;
  /** Server process CPU (ms) per 1,000 requests sent, across the runs (NATS's own CPU not included). */
  readonly serverCpuMsPer1k: number;
  /** The bus's nats-server processes' CPU (ms, all nodes) per 1,000 requests sent, across the runs; NaN for the memory bus and the baseline. */
  readonly busCpuMsPer1k: number;
  readonly clientCpuShare: number;
  readonly poolExhausted: boolean;
}

export interface IngestRow {
  readonly bus: BusKind;
  readonly ours: IngestSide;
  readonly baseline: IngestSide;
  /** The median of `roundRatios`: what the verdict is on. */
  readonly ratio: number;
  /** Per round: ours / baseline requests per second of that round's pair of runs. */
  readonly roundRatios: readonly number[];
  readonly goal: number;
  readonly pass: boolean;
  /** Per run of ours: ms from the end of the load until the pipeline had consumed everything accepted; undefined = not within the timeout. */
  readonly drainMs: ReadonlyArray<number | undefined>;
  /** Per run of ours: events the pipeline consumed per second, from the start of the load until it caught up. */
  readonly pipelineEventsPerSecond: readonly number[];
  readonly error?: string;
}

export interface IngestBenchResult {
  readonly rows: IngestRow[];
  readonly concurrency: number;
  readonly durationMs: number;
  readonly koaVersion: string;
}

/**
 * Issue 26's bars. The cluster acknowledges a publish once a second node stored it (R3): one
 * more network hop and write per webhook, and on this machine three nats-servers share the
 * server's two cores.
 */
const GOALS: Record<BusKind, number> = { memory: 0.8, nats: 0.5, 'nats-cluster': 0.35 };
const WEBHOOK_PATH = '/webhooks/twitch';

interface RunSample {
  readonly result: WebhookLoadResult;
  readonly serverCpuMs: number;
  /** CPU of the bus's nats-server processes during the run; undefined without any. */
  readonly busCpuMs: number | undefined;
}

/** A server under load and how to read its process's CPU time (ms). */
interface Target {
  readonly host: string;
  readonly port: number;
  readonly cpuMs: () => Promise<number>;
  /** CPU ms so far of the nats-server processes behind it (all nodes), when there are any. */
  readonly busCpuMs?: () => number | undefined;
}

interface BaselineProcess extends Target {
  readonly koaVersion: string;
  stop(): Promise<void>;
}

let cpuRequests = 0;

async function startBaselineProcess(): Promise<BaselineProcess> {
  const child = spawnBenchChild<BaselineProcessMessage>(new URL('./baselines/koa-hmac-process.ts', import.meta.url));
  child.send({ type: 'start', secret: TEST_SECRET });
  const ready = await child.next((m): m is Extract<BaselineProcessMessage, { type: 'ready' }> => m.type === 'ready', 30_000);
  return {
    host: ready.host,
    port: ready.port,
    koaVersion: ready.koaVersion,
    async cpuMs() {
      const id = ++cpuRequests;
      child.send({ type: 'cpu', id });
      return (await child.next((m): m is Extract<BaselineProcessMessage, { type: 'cpu' }> => m.type === 'cpu' && m.id === id, 10_000)).ms;
    },
    stop: () => child.stop(),
  };
}

function ownCpuMs(): Promise<number> {
  const { user, system } = process.cpuUsage();
  return Promise.resolve((user + system) / 1000);
}

let runCounter = 0;

async function loadRun(
  loader: BenchChild<WebhookLoadResult>,
  target: Target,
  options: Required<Pick<IngestBenchOptions, 'concurrency' | 'warmupMs' | 'durationMs' | 'requestsPerRun'>>,
  label: string,
  previous: RunSample | undefined,
): Promise<RunSample> {
  // Enough distinct requests for the whole run at the rate this target showed last time (with
  // headroom), so the pool does not end the window early and no time goes into building unused ones.
  const lastRate = previous && previous.result.windowMs > 0 ? (previous.result.ok * 1000) / previous.result.windowMs : undefined;
  const requests =
    lastRate === undefined
      ? options.requestsPerRun
      : Math.min(options.requestsPerRun, Math.ceil((lastRate * (options.warmupMs + options.durationMs)) / 1000 * 1.5) + 2_000);
  const id = ++runCounter;
  const run: WebhookLoadRun = {
    type: 'run',
    id,
    host: target.host,
    port: target.port,
    path: WEBHOOK_PATH,
    secret: TEST_SECRET,
    broadcaster: TEST_BROADCASTER,
    requests,
    concurrency: options.concurrency,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    label: `${label}-${process.pid}-${id}`,
  };
  const cpuBefore = await target.cpuMs();
  const busCpuBefore = target.busCpuMs?.();
  loader.send(run);
  const result = await loader.next((m): m is WebhookLoadResult => m.type === 'result' && m.id === id, 120_000);
  const serverCpuMs = (await target.cpuMs()) - cpuBefore;
  const busCpuAfter = target.busCpuMs?.();
  return { result, serverCpuMs, busCpuMs: busCpuBefore === undefined || busCpuAfter === undefined ? undefined : busCpuAfter - busCpuBefore };
}

function requestsPerSecond(sample: RunSample): number {
  return sample.result.windowMs > 0 ? (sample.result.ok * 1000) / sample.result.windowMs : Number.NaN;
}

/** The run with the higher req/s; one without a measured window counts as the slowest. */
function fasterOf(a: RunSample | undefined, b: RunSample): RunSample {
  const rate = (sample: RunSample) => (sample.result.windowMs > 0 ? requestsPerSecond(sample) : -1);
  return a !== undefined && rate(a) >= rate(b) ? a : b;
}

function summarize(samples: readonly RunSample[]): IngestSide {
  const ok = samples.reduce((sum, s) => sum + s.result.ok, 0);
  const windowMs = samples.reduce((sum, s) => sum + s.result.windowMs, 0);
  const sent = samples.reduce((sum, s) => sum + s.result.sent, 0);
  const latencies = new Float64Array(samples.reduce((n, s) => n + s.result.latenciesMs.length, 0));
  let offset = 0;
  for (const s of samples) {
    latencies.set(s.result.latenciesMs, offset);
    offset += s.result.latenciesMs.length;
  }
  const [p50, p99] = quantiles(latencies, [0.5, 0.99]);
  const failures: Record<string, number> = {};
  for (const s of samples) for (const [k, v] of Object.entries(s.result.failures)) failures[k] = (failures[k] ?? 0) + v;
  const clientCpu = samples.reduce((sum, s) => sum + s.result.clientCpuMs, 0);
  const busCpu = samples.every((s) => s.busCpuMs !== undefined) ? samples.reduce((sum, s) => sum + s.busCpuMs!, 0) : Number.NaN;
  return {
    requestsPerSecond: windowMs > 0 ? (ok * 1000) / windowMs : Number.NaN,
    p50Ms: p50!,
    p99Ms: p99!,
    requests: ok,
    failures,
    serverCpuMsPer1k: sent > 0 ? (samples.reduce((sum, s) => sum + s.serverCpuMs, 0) * 1000) / sent : Number.NaN,
    busCpuMsPer1k: sent > 0 && samples.length > 0 ? (busCpu * 1000) / sent : Number.NaN,
    clientCpuShare: windowMs > 0 ? clientCpu / windowMs : Number.NaN,
    poolExhausted: samples.some((s) => s.result.poolExhausted),
  };
}

/**
 * Waits until the pipeline has handled `count` more raw events than `before` (its own
 * `live_upload_pipeline_events_total`, whatever the outcome): every accepted webhook of the run
 * is one raw event. Returns the ms it took, or undefined when not within the timeout.
 */
async function waitForPipeline(server: TestServer, before: number, count: number, timeoutMs: number): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if ((await pipelineEventsHandled(server.running.metrics)) >= before + count) return performance.now() - started;
    await sleep(50);
  }
  return undefined;
}

/** One bus's server under test and what its runs measured. */
interface OursSide {
  readonly bus: BusKind;
  readonly started: BenchBus;
  readonly server: TestServer;
  readonly target: Target;
  readonly samples: RunSample[];
  readonly baselineSamples: RunSample[];
  readonly drainMs: Array<number | undefined>;
  readonly pipelineEventsPerSecond: number[];
  /** The fastest run of ours so far: what the next run's request pool is sized from. */
  fastest: RunSample | undefined;
}

/**
 * Benches the buses of one group round by round: each round is a baseline run, then a run of
 * ours on each bus of the group right after it, so buses compared with each other (one
 * nats-server and the cluster) share a round's machine weather instead of being minutes apart.
 * Each bus's ratio is against its round's baseline run.
 */
async function benchGroup(
  buses: readonly BusKind[],
  loader: BenchChild<WebhookLoadResult>,
  baseline: Target,
  options: Required<Omit<IngestBenchOptions, 'buses' | 'log' | 'rawLeader'>> & Pick<IngestBenchOptions, 'rawLeader'>,
  log: (line: string) => void,
): Promise<IngestRow[]> {
  const sides: OursSide[] = [];
  try {
    for (const bus of buses) {
      const started = await startBenchBus(bus);
      let server: TestServer;
      try {
        // Production windows (30 s grace, 2 s coalescing): a burst of title updates is mostly coalesced.
        server = await startTestServer({ graceMs: 30_000, coalesceMs: 2_000, ...started.serverOptions });
      } catch (error) {
        await started.stop();
        throw error;
      }
      const ours = new URL(server.url);
      sides.push({
        bus,
        started,
        server,
        target: { host: ours.hostname, port: Number(ours.port), cpuMs: ownCpuMs, busCpuMs: () => started.cpuMs() },
        samples: [],
        baselineSamples: [],
        drainMs: [],
        pipelineEventsPerSecond: [],
        fastest: undefined,
      });
      if (bus === 'nats-cluster' && options.rawLeader !== undefined) {
        await started.placeLeaders(STREAMS.liveRaw.name, CONSUMERS.pipeline, options.rawLeader);
      }
      if (bus === 'nats-cluster') {
        // Where the raw stream's leader is matters to the cost: the server is connected to node 0,
        // and a publish to a leader elsewhere crosses a route each way (so does its consumer's traffic).
        const leader = (await started.leaderOf(STREAMS.liveRaw.name)) ?? 'none yet';
        log(`  ${bus}: ${STREAMS.liveRaw.name} kept in ${await started.replicasOf(STREAMS.liveRaw.name)} copies, its leader ${leader}; the server is connected to n0`);
      }
    }
    const label = buses.join('+');
    // Pools are sized from a target's fastest run so far, not its last: sized from one run a
    // neighbour's burst slowed down (a few hundred req/s on a loaded machine), the next run's
    // pool ran out during its warm-up and the round had no measured window (ratio n/a).
    let fastestBaseline: RunSample | undefined;
    for (let round = -options.warmupRounds; round < options.rounds; round++) {
      const counted = round >= 0;
      const name = counted ? `round ${round + 1}` : 'warm-up (not counted)';
      const b = await loadRun(loader, baseline, options, `base-${label}`, fastestBaseline);
      fastestBaseline = fasterOf(fastestBaseline, b);
      log(`  ${label} ${name}: baseline ${fmtInt(requestsPerSecond(b))} req/s (${fmtInt(b.result.sent)} sent; request pool built in ${fmtInt(b.result.buildMs)} ms)`);
      for (const side of sides) {
        const handledBefore = await pipelineEventsHandled(side.server.running.metrics);
        const o = await loadRun(loader, side.target, options, `ours-${side.bus}`, side.fastest);
        side.fastest = fasterOf(side.fastest, o);
        const drained = await waitForPipeline(side.server, handledBefore, o.result.accepted, options.drainTimeoutMs);
        if (counted) {
          side.samples.push(o);
          side.baselineSamples.push(b);
          side.drainMs.push(drained);
          if (drained !== undefined) side.pipelineEventsPerSecond.push((o.result.accepted * 1000) / (options.warmupMs + o.result.windowMs + drained));
        }
        log(
          `  ${side.bus} ${name}: ours     ${fmtInt(requestsPerSecond(o))} req/s; ` +
            (drained === undefined ? `pipeline NOT caught up within ${options.drainTimeoutMs} ms` : `pipeline caught up ${fmtInt(drained)} ms after the load`),
        );
      }
    }
    return sides.map((side) => {
      const roundRatios = side.samples.map((o, round) => requestsPerSecond(o) / requestsPerSecond(side.baselineSamples[round]!));
      const ratio = median(roundRatios);
      return {
        bus: side.bus,
        ours: summarize(side.samples),
        baseline: summarize(side.baselineSamples),
        ratio,
        roundRatios,
        goal: GOALS[side.bus],
        pass: ratio >= GOALS[side.bus],
        drainMs: side.drainMs,
        pipelineEventsPerSecond: side.pipelineEventsPerSecond,
      };
    });
  } finally {
    for (const side of sides) {
      await side.server.close();
      await side.started.stop();
    }
  }
}

export function formatIngest(result: IngestBenchResult): string {
  const failures = (side: IngestSide) =>
    Object.keys(side.failures).length === 0 ? '0' : Object.entries(side.failures).map(([k, v]) => `${k}:${v}`).join(' ');
  const rows = [
    ['bus', 'ours req/s', 'baseline req/s', 'ratio (median round)', 'per round', 'goal', 'verdict', 'ours p50/p99 ms', 'baseline p50/p99 ms', 'ours fails', 'srv CPU ms/1k ours/base', 'nats CPU ms/1k', 'pipeline caught up', 'pipeline ev/s'],
    ...result.rows.map((row) =>
      row.error
        ? [row.bus, 'error', '', '', '', `>= ${row.goal}`, 'n/a', row.error, '', '', '', '', '', '']
        : [
            row.bus,
            fmtInt(row.ours.requestsPerSecond),
            fmtInt(row.baseline.requestsPerSecond),
            fmt(row.ratio, 2),
            row.roundRatios.map((ratio) => fmt(ratio, 2)).join(', '),
            `>= ${row.goal}`,
            verdict(row.pass),
            `${fmt(row.ours.p50Ms)} / ${fmt(row.ours.p99Ms)}`,
            `${fmt(row.baseline.p50Ms)} / ${fmt(row.baseline.p99Ms)}`,
            failures(row.ours),
            `${fmtInt(row.ours.serverCpuMsPer1k)} / ${fmtInt(row.baseline.serverCpuMsPer1k)}`,
            Number.isNaN(row.ours.busCpuMsPer1k) ? '-' : fmtInt(row.ours.busCpuMsPer1k),
            row.drainMs.map((ms) => (ms === undefined ? 'NO' : `${fmt(ms / 1000)} s`)).join(', '),
            row.pipelineEventsPerSecond.map((rate) => fmtInt(rate)).join(', '),
          ],
    ),
  ];
  const notes = result.rows
    .filter((row) => !row.error && (row.baseline.poolExhausted || row.ours.poolExhausted))
    .map((row) => `note (${row.bus}): a pre-built request pool ran out before the duration; raise requestsPerRun for a longer window`);
  const clientBound = result.rows
    .filter((row) => !row.error && row.baseline.clientCpuShare > 0.9)
    .map((row) => `note (${row.bus}): the load generator used ${fmt(row.baseline.clientCpuShare * 100, 0)}% of a core during the baseline: the baseline figure is partly client-bound, so the ratio is optimistic`);
  const cluster = clusterVersusSingle(result.rows);
  return [
    `ingest: ${result.concurrency} concurrent keep-alive clients in a separate process, ${result.durationMs} ms measured per run, baseline = bare koa ${result.koaVersion} + HMAC`,
    table(rows),
    'ratio = ours / baseline req/s of each round (a baseline run, then ours), the verdict on the median round; req/s columns = all rounds together;',
    'ours = full path incl. the pipeline consuming concurrently in this process; srv CPU = each server process per 1k requests (nats-server excluded);',
    'nats CPU = the bus\'s nats-server processes (all three nodes on the cluster) per 1k requests of ours, during ours\' runs;',
    'pipeline caught up = time after the load until every accepted webhook was consumed; pipeline ev/s = accepted / (load + catch-up)',
    ...notes,
    ...clientBound,
    ...(cluster
      ? [
          `cluster vs single node: (nats-cluster ours/baseline) / (nats ours/baseline) per round ${cluster.perRound.map((ratio) => fmt(ratio, 2)).join(', ')}, ` +
            `median ${fmt(cluster.median, 2)} (1.0 = no cost; in each round both ran right after the same baseline run)`,
        ]
      : []),
  ].join('\n');
}

/**
 * What the three-node cluster costs against one nats-server in the same run: per round, the
 * cluster row's ours/baseline over the single node's. The two ran right after the same baseline
 * run (benchGroup), so this is their req/s ratio in that round. Undefined unless both were measured.
 */
export function clusterVersusSingle(rows: readonly IngestRow[]): { perRound: number[]; median: number } | undefined {
  const single = rows.find((row) => row.bus === 'nats' && !row.error);
  const cluster = rows.find((row) => row.bus === 'nats-cluster' && !row.error);
  if (!single || !cluster) return undefined;
  const perRound = cluster.roundRatios.flatMap((ratio, round) => (single.roundRatios[round] === undefined ? [] : [ratio / single.roundRatios[round]!]));
  return perRound.length === 0 ? undefined : { perRound, median: median(perRound) };
}

export async function runIngestBench(options: IngestBenchOptions = {}): Promise<IngestBenchResult> {
  const settings = {
    concurrency: options.concurrency ?? 32,
    warmupMs: options.warmupMs ?? 1_000,
    durationMs: options.durationMs ?? 3_000,
    rounds: options.rounds ?? 3,
    warmupRounds: options.warmupRounds ?? 1,
    requestsPerRun: options.requestsPerRun ?? 120_000,
    drainTimeoutMs: options.drainTimeoutMs ?? 60_000,
    ...(options.rawLeader === undefined ? {} : { rawLeader: options.rawLeader }),
  };
  const log = options.log ?? ((line: string) => console.log(line));
  const loader = spawnBenchChild<WebhookLoadResult>(new URL('./load/webhook-load.ts', import.meta.url));
  const baseline = await startBaselineProcess();
  const rows: IngestRow[] = [];
  try {
    for (const group of groupsOf(options.buses ?? ['memory', 'nats', 'nats-cluster'])) {
      try {
        rows.push(...(await benchGroup(group, loader, baseline, settings, log)));
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        log(`  ${group.join('+')}: FAILED: ${message}`);
        for (const bus of group) {
          rows.push({ bus, ours: emptySide(), baseline: emptySide(), ratio: Number.NaN, roundRatios: [], goal: GOALS[bus], pass: false, drainMs: [], pipelineEventsPerSecond: [], error: message });
        }
      }
    }
  } finally {
    await baseline.stop();
    await loader.stop();
  }
  return { rows, concurrency: settings.concurrency, durationMs: settings.durationMs, koaVersion: baseline.koaVersion };
}

/**
 * The buses benched round by round together: one nats-server and the cluster (the comparison
 * issue 20 asks for); the memory bus alone, as before (nothing compares it with the others).
 */
function groupsOf(buses: readonly BusKind[]): BusKind[][] {
  const nats = buses.filter((bus) => bus !== 'memory');
  return [...(buses.includes('memory') ? [['memory' as const]] : []), ...(nats.length > 0 ? [nats] : [])];
}

function emptySide(): IngestSide {
  return { requestsPerSecond: Number.NaN, p50Ms: Number.NaN, p99Ms: Number.NaN, requests: 0, failures: {}, serverCpuMsPer1k: Number.NaN, busCpuMsPer1k: Number.NaN, clientCpuShare: Number.NaN, poolExhausted: false };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const buses = busesFromArgv(process.argv.slice(2));
  const rawLeader = process.argv.find((arg) => arg.startsWith('--raw-leader='))?.slice('--raw-leader='.length);
  const result = await runIngestBench({ ...(buses ? { buses } : {}), ...(rawLeader ? { rawLeader } : {}) });
  console.log(formatIngest(result));
}
