/**
 * Outbound webhook benchmark (issue 6): signed Standard Webhooks deliveries per second to 100
 * receivers (local HTTP servers answering 204), through the FULL path versus a bare signed
 * POST loop, measured in the same run.
 *
 * Ours: the real `OutboundWebhooks` on a bus (memory by default, or NATS when `natsUrl` is
 * given): `clips.published` events on the CLIPS stream -> durable fan-out -> one job per
 * subscriber on the OUTBOUND work queue -> the delivery worker (subscriber lookup, SSRF check
 * with the allowlist, HMAC signing, pinned keep-alive POST, delivery record in KV). Timed from
 * the first publish until every receiver has had every event.
 *
 * Baseline: the same (event, receiver) pairs signed with node:crypto and POSTed over a
 * keep-alive `http.Agent` with the same concurrency, no bus, no records.
 *
 * Both sides run once before the clock (JIT, keep-alive sockets to every receiver), then in
 * alternating rounds: a baseline run, then ours. The ratio is ours / baseline deliveries per
 * second of each round, the verdict on the median round. Run it with `runOutboundBench()` and
 * print it with `formatOutbound(result)`; `node --import tsx bench/outbound.ts [--bus=memory,nats]`
 * does both (NATS on a nats-server of its own); `--profile=<dir>` adds CPU profiles of each side alone.
 */
import { createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, encodeJson, type Bus } from '../server/src/bus/index.js';
import { generateWebhookSecret, parseWebhookSecret } from '../server/src/outbound/index.js';
import { openLoopbackOutbound } from '../test/support/loopback-outbound.js';
import { busesFromArgv, startBenchBus } from './support/bench-bus.js';
import { fmt, fmtInt, median } from './support/stats.js';

export interface OutboundBenchOptions {
  readonly receivers?: number;
  readonly events?: number;
  /** Attempts in flight at once, ours and the baseline's. */
  readonly concurrency?: number;
  /** Unset: the memory bus. */
  readonly natsUrl?: string;
  readonly timeoutMs?: number;
  /** Measured pairs (a baseline run, then ours), after one pair not counted. */
  readonly rounds?: number;
  /**
   * After the measured rounds, run each side `rounds` more times under the V8 profiler and write
   * the profiles here (`ours.cpuprofile`, `baseline.cpuprofile`): the `--cpu-prof` of the whole
   * process mixes the two sides, the receivers' setup and module loading. Not counted in the ratio.
   */
  readonly profileDir?: string;
  /** The bus server's CPU so far (ms), when it runs in processes of its own: reported per delivery of ours. */
  readonly busCpuMs?: () => number | undefined;
}

export interface OutboundSide {
  readonly deliveries: number;
  readonly elapsedMs: number;
  readonly deliveriesPerSecond: number;
  /**
   * This process's CPU (ms) per 1,000 deliveries during the runs: the receivers' share is in
   * both sides alike; steadier than the rate when neighbours take the cores (nats-server not included).
   */
  readonly cpuMsPer1k: number;
  /** The nats-server's CPU (ms) per 1,000 deliveries during ours' runs (undefined on the memory bus, and for the baseline, which uses no bus). */
  readonly busCpuMsPer1k?: number;
}

export interface OutboundBenchResult {
  readonly bus: 'memory' | 'nats';
  readonly receivers: number;
  readonly events: number;
  readonly concurrency: number;
  readonly ours: OutboundSide;
  readonly baseline: OutboundSide;
  /** ours / baseline deliveries per second: the median of `roundRatios`. */
  readonly ratio: number;
  /** Per round: ours / baseline deliveries per second of a baseline run and the run of ours right after it. */
  readonly roundRatios: readonly number[];
}

interface Receivers {
  readonly urls: string[];
  /** Requests received so far, all receivers. */
  total(): number;
  /** Resolves once `count` requests in all have arrived. */
  waitForTotal(count: number, timeoutMs: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

async function startReceivers(count: number): Promise<Receivers> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let total = 0;
  let waiter: { count: number; resolve: () => void } | undefined;
  for (let i = 0; i < count; i++) {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        total += 1;
        res.writeHead(204).end();
        if (waiter && total >= waiter.count) {
          waiter.resolve();
          waiter = undefined;
        }
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  return {
    urls: servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`),
    total: () => total,
    waitForTotal: (wanted, timeoutMs) =>
      total >= wanted
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`only ${total} of ${wanted} deliveries within ${timeoutMs} ms`)), timeoutMs);
            waiter = {
              count: wanted,
              resolve: () => {
                clearTimeout(timer);
                resolve();
              },
            };
          }),
    reset: () => {
      total = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

let eventCounter = 0;

function clipEvent(index: number): { subject: string; body: Record<string, unknown>; msgId: string } {
  const uploadId = `up_bench_${index}_${Date.now()}_${++eventCounter}`;
  return {
    subject: SUBJECTS.clipPublished({ publisher: 'bench', slug: 'outbound' }),
    msgId: uploadId,
    body: {
      upload_id: uploadId,
      channel: 'bench/outbound',
      media: { mp4: `/media/${uploadId}/clip.mp4`, hls: `/media/${uploadId}/index.m3u8`, poster: `/media/${uploadId}/poster.jpg` },
      published_at: new Date().toISOString(),
    },
  };
}

/** Our outbound service with one subscriber per receiver, opened once and measured round after round. */
interface OursService {
  run(events: number): Promise<OutboundSide>;
  stop(): Promise<void>;
}

async function startOurs(bus: Bus, receivers: Receivers, concurrency: number, timeoutMs: number, busCpuMs: () => number | undefined): Promise<OursService> {
  await bus.ensureStreams(Object.values(STREAMS));
  const outbound = await openLoopbackOutbound(bus, { maxInFlightPerSubscriber: 8, concurrency });
  try {
    for (const url of receivers.urls) await outbound.admin.create({ url, events: ['clip.published'], channels: [], description: 'bench' }, 'bench');
    await outbound.start();
  } catch (error) {
    await outbound.stop();
    throw error;
  }
  return {
    /** Timed from the first publish until every receiver has had every event. */
    async run(events) {
      receivers.reset();
      const wanted = events * receivers.urls.length;
      const startedAt = performance.now();
      const cpuBefore = process.cpuUsage();
      const busCpuBefore = busCpuMs();
      for (let i = 0; i < events; i++) {
        const event = clipEvent(i);
        await bus.publish(event.subject, encodeJson(event.body), { msgId: event.msgId });
      }
      await receivers.waitForTotal(wanted, timeoutMs);
      const elapsedMs = performance.now() - startedAt;
      const busCpuAfter = busCpuMs();
      const busCpuMsPer1k = busCpuBefore === undefined || busCpuAfter === undefined ? undefined : ((busCpuAfter - busCpuBefore) * 1000) / wanted;
      return { deliveries: wanted, elapsedMs, deliveriesPerSecond: (wanted / elapsedMs) * 1000, cpuMsPer1k: cpuMsPer1k(cpuBefore, wanted), busCpuMsPer1k };
    },
    stop: () => outbound.stop(),
  };
}

/**
 * The bare loop: sign with node:crypto, POST over keep-alive sockets, `concurrency` at a time.
 * `agent` lives as long as the bench, as ours' connection pools do: a fresh agent per run made
 * every round of the baseline reconnect to all 100 receivers, which the warm-up was meant to
 * spare it (and which flattered ours' ratio).
 */
async function runBaseline(receivers: Receivers, events: number, concurrency: number, agent: Agent): Promise<OutboundSide> {
  const keys = receivers.urls.map(() => parseWebhookSecret(generateWebhookSecret())!);
  const bodies = Array.from({ length: events }, (_, i) => JSON.stringify({ type: 'clip.published', timestamp: new Date().toISOString(), data: clipEvent(i).body }));
  const jobs: Array<{ url: URL; key: Buffer; body: string; id: string }> = [];
  for (let e = 0; e < events; e++) {
    for (let r = 0; r < receivers.urls.length; r++) jobs.push({ url: new URL(receivers.urls[r]!), key: keys[r]!, body: bodies[e]!, id: `msg_bench${e}` });
  }
  const post = (job: (typeof jobs)[number]) =>
    new Promise<void>((resolve, reject) => {
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', job.key).update(`${job.id}.${timestamp}.${job.body}`).digest('base64');
      const req = request(
        {
          method: 'POST',
          hostname: job.url.hostname,
          port: job.url.port,
          path: job.url.pathname,
          agent,
          headers: { 'content-type': 'application/json', 'webhook-id': job.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(job.body);
    });
  receivers.reset();
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) await post(jobs[next++]!);
    }),
  );
  const elapsedMs = performance.now() - startedAt;
  return { deliveries: jobs.length, elapsedMs, deliveriesPerSecond: (jobs.length / elapsedMs) * 1000, cpuMsPer1k: cpuMsPer1k(cpuBefore, jobs.length) };
}

export async function runOutboundBench(options: OutboundBenchOptions = {}): Promise<OutboundBenchResult> {
  const receiverCount = options.receivers ?? 100;
  const events = options.events ?? 20;
  const concurrency = options.concurrency ?? 64;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const rounds = options.rounds ?? 5;
  const receivers = await startReceivers(receiverCount);
  const bus = options.natsUrl ? await createNatsBus({ url: options.natsUrl, name: 'outbound-bench' }) : createMemoryBus();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let ours: OursService | undefined;
  try {
    ours = await startOurs(bus, receivers, concurrency, timeoutMs, options.busCpuMs ?? (() => undefined));
    // Warm both paths (JIT, keep-alive sockets to every receiver) on a pair of runs not counted.
    await runBaseline(receivers, events, concurrency, agent);
    await ours.run(events);
    const baselines: OutboundSide[] = [];
    const oursRuns: OutboundSide[] = [];
    for (let round = 0; round < rounds; round++) {
      baselines.push(await runBaseline(receivers, events, concurrency, agent));
      oursRuns.push(await ours.run(events));
    }
    if (options.profileDir !== undefined) {
      const oursService = ours;
      await profileRuns(() => oursService.run(events), rounds, join(options.profileDir, 'ours.cpuprofile'));
      await profileRuns(() => runBaseline(receivers, events, concurrency, agent), rounds, join(options.profileDir, 'baseline.cpuprofile'));
    }
    const roundRatios = oursRuns.map((side, round) => side.deliveriesPerSecond / baselines[round]!.deliveriesPerSecond);
    return {
      bus: options.natsUrl ? 'nats' : 'memory',
      receivers: receiverCount,
      events,
      concurrency,
      ours: together(oursRuns),
      baseline: together(baselines),
      ratio: median(roundRatios),
      roundRatios,
    };
  } finally {
    agent.destroy();
    await ours?.stop();
    await bus.close();
    await receivers.close();
  }
}

/** `runs` runs of one side alone under the profiler (an inspector session in this process), written to `file`. */
async function profileRuns(run: () => Promise<OutboundSide>, runs: number, file: string): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    for (let i = 0; i < runs; i++) await run();
    const { profile } = await session.post('Profiler.stop');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(profile));
  } finally {
    session.disconnect();
  }
}

/** Runs of one side added up. */
function together(runs: readonly OutboundSide[]): OutboundSide {
  const deliveries = runs.reduce((sum, run) => sum + run.deliveries, 0);
  const elapsedMs = runs.reduce((sum, run) => sum + run.elapsedMs, 0);
  const cpuMs = runs.reduce((sum, run) => sum + (run.cpuMsPer1k * run.deliveries) / 1000, 0);
  const busCpuMs = runs.every((run) => run.busCpuMsPer1k !== undefined) ? runs.reduce((sum, run) => sum + (run.busCpuMsPer1k! * run.deliveries) / 1000, 0) : undefined;
  return {
    deliveries,
    elapsedMs,
    deliveriesPerSecond: (deliveries / elapsedMs) * 1000,
    cpuMsPer1k: (cpuMs * 1000) / deliveries,
    ...(busCpuMs === undefined ? {} : { busCpuMsPer1k: (busCpuMs * 1000) / deliveries }),
  };
}

function cpuMsPer1k(before: NodeJS.CpuUsage, deliveries: number): number {
  const { user, system } = process.cpuUsage(before);
  return (user + system) / deliveries;
}

export function formatOutbound(result: OutboundBenchResult): string {
  const side = (name: string, s: OutboundSide) =>
    `${name.padEnd(9)} ${fmtInt(s.deliveries)} deliveries in ${fmt(s.elapsedMs, 0)} ms = ${fmtInt(s.deliveriesPerSecond)} deliveries/s, CPU ${fmtInt(s.cpuMsPer1k)} ms per 1k` +
    (s.busCpuMsPer1k === undefined ? '' : `, nats-server ${fmtInt(s.busCpuMsPer1k)} ms per 1k`);
  return [
    `outbound webhooks, ${result.bus} bus: ${result.events} events x ${result.receivers} receivers, concurrency ${result.concurrency}`,
    side('ours', result.ours),
    side('baseline', result.baseline),
    `ratio ours/baseline ${fmt(result.ratio, 2)} (median round; per round ${result.roundRatios.map((ratio) => fmt(ratio, 2)).join(', ')})`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // `--bus=memory,nats`: the NATS row runs on a nats-server of its own. `--profile=<dir>`: also
  // a CPU profile of our runs alone, `<dir>/<bus>/{ours,baseline}.cpuprofile` (read with bench/support/profile-top.ts).
  const profileRoot = process.argv.find((arg) => arg.startsWith('--profile='))?.slice('--profile='.length);
  for (const kind of busesFromArgv(process.argv.slice(2)) ?? ['memory']) {
    if (kind === 'nats-cluster') throw new Error('outbound runs on memory or nats');
    const started = await startBenchBus(kind);
    try {
      const profileDir = profileRoot === undefined ? undefined : join(profileRoot, kind);
      console.log(formatOutbound(await runOutboundBench({ natsUrl: started.serverOptions.natsUrl, profileDir, busCpuMs: () => started.cpuMs() })));
    } finally {
      await started.stop();
    }
  }
}
