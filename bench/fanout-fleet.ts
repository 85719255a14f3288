/**
 * Fan-out across a fleet (issue 26): from a webhook sent to one replica to the last of N SSE
 * subscribers spread over several replicas, versus the bare broadcast with the same
 * subscribers split the same way, measured in the same run, round by round.
 *
 *   node --import tsx bench/fanout-fleet.ts --replicas=2 --subscribers=50000
 *     [--bus=nats|nats-cluster] [--rounds=20] [--clients-per-process=12500] [--single=10000|off]
 *     [--profile=<dir>]   (a CPU profile of every server process over the rounds)
 *
 * Ours: `--replicas` server processes (bench/load/fanout-replica.ts: the real `startServer`) on
 * one NATS, N / replicas subscribers on `/api/v1/live/events` of each. Each round is a signed
 * `channel.update` with a new title sent to replica 0 only: webhook -> raw event stream ->
 * pipeline (whichever replica's consumer takes it) -> `live.status` on NATS -> every replica's
 * hub -> its SSE connections. The channel went live before the subscribers connected, the
 * coalescing window is 100 ms and rounds are spaced beyond it (as in bench/fanout.ts).
 *
 * Baseline: as many bare broadcast processes (bench/baselines/sse-broadcast-process.ts) holding
 * the same shares; each round the trigger POSTs to all of them back to back and each answers
 * 204 and writes one pre-serialized frame (the bytes of a frame ours sent) to its share. It has
 * no bus hop between processes: that hop is part of what ours is measured for.
 *
 * The two sides hold their subscribers at the same time and their rounds alternate (ours
 * first in even rounds, the baseline first in odd ones), so each round's ratio compares two
 * fan-outs seconds apart on a machine whose load moves. "From send" is from the trigger's
 * first write (the webhook; the baseline's first POST) to the last subscriber of all.
 *
 * Subscribers: bench/load/sse-clients.ts processes, at most `--clients-per-process` each, every
 * process from its own loopback address (127.0.0.2, 127.0.0.3, ...) so each has its own
 * ephemeral ports. Memory per subscriber: each server process's RSS, heap and external memory
 * (garbage collected first) before and after its share connected, over its share.
 *
 * Machine limits (open files per process, soft and hard; fs.file-max; ephemeral ports;
 * conntrack) are read and printed. When a server process would need more open files than the
 * limit allows, the run says so and measures the largest share that fits, labelled as such:
 * nothing is faked. `--single=10000` (the default) first re-measures the single-server 10k
 * fan-out of bench/fanout.ts (memory bus) in the same run, for its <= 1.1x bar.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createEventSubSender, type EventSubSender } from '../test/fakes/twitch/eventsub.js';
import { TEST_BROADCASTER, TEST_CHANNEL, TEST_SECRET } from '../test/support/test-server.js';
import { formatFanout, runFanoutBench, type FanoutBenchResult } from './fanout.js';
import type {
  BroadcastListening,
  BroadcastMessage,
  FleetRequest,
  FleetTriggerMessage,
  FleetTriggerSent,
  ProcessUsage,
  ProfileDone,
  ReplicaMessage,
  ReplicaStarted,
  SseOpenFrom,
} from './load/fleet-protocol.js';
import type { SseClientMessage, SseReady, SseRound } from './load/protocol.js';
import { STREAMS } from '../server/src/bus/subjects.js';
import { startBenchBus, type BenchBus } from './support/bench-bus.js';
import { spawnBenchChild, type BenchChild } from './support/child.js';
import { clockOffset } from './support/clock-offset.js';
import { fmt, fmtInt, median, quantiles, sleep, table, verdict } from './support/stats.js';

export type FleetBus = 'nats' | 'nats-cluster';

export interface FanoutFleetOptions {
  readonly replicas?: number;
  /** Subscribers over all replicas (split evenly). */
  readonly subscribers?: number;
  /** Measured rounds per side (plus one warm-up round). */
  readonly rounds?: number;
  readonly bus?: FleetBus;
  /** Most SSE connections one subscriber process holds (it needs an open file per connection too). */
  readonly clientsPerProcess?: number;
  readonly openBatch?: number;
  readonly openTimeoutMs?: number;
  readonly roundTimeoutMs?: number;
  /** Write a CPU profile of every server process over the measured rounds into this directory. */
  readonly profileDir?: string;
  readonly log?: (line: string) => void;
}

export interface MachineLimits {
  /** `ulimit -n` (soft) and `ulimit -Hn` (hard): open files per process. */
  readonly openFiles: number | undefined;
  readonly openFilesHard: number | undefined;
  readonly fileMax: number | undefined;
  /** Ephemeral ports per source address (net.ipv4.ip_local_port_range). */
  readonly ephemeralPorts: number | undefined;
  readonly conntrackMax: number | undefined;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

/** Bytes held per subscriber by one server process (after minus before its share connected, over the share). */
export interface MemoryPerSubscriber {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  /** RSS of the process with its share connected. */
  readonly rssTotal: number;
}

export interface FleetSideResult {
  readonly name: 'ours' | 'baseline';
  readonly opened: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly openMs: number;
  /** Subscribers that did not get a round's event in time, summed over rounds. */
  readonly missing: number;
  /** Time to the last subscriber of all, from send, per measured round (ms). */
  readonly lastFromSendByRound: number[];
  readonly lastFromSend: Percentiles;
  /** From the (last) 204 of the round. */
  readonly lastFrom204: Percentiles;
  /** Every subscriber of every round, from send. */
  readonly perSubscriberFromSend: Percentiles;
  /** CPU per round of all server processes together (ms). */
  readonly serverCpuMsPerRound: number;
  /** One entry per server process. */
  readonly memory: MemoryPerSubscriber[];
}

export interface FanoutFleetResult {
  readonly bus: FleetBus;
  readonly replicas: number;
  readonly requested: number;
  /** Per server process; less than requested / replicas when a machine limit capped it. */
  readonly perServer: number;
  readonly clientProcessesPerServer: number;
  readonly rounds: number;
  readonly limits: MachineLimits;
  /** Why fewer subscribers than requested were measured, in plain words. */
  readonly limit: string | undefined;
  readonly ours: FleetSideResult;
  readonly baseline: FleetSideResult;
  /** Ours / baseline per measured round (time to last, from send). */
  readonly roundRatios: number[];
  readonly ratioP50: number;
  readonly ratioP99: number;
  /** Load average when the run started and ended (the machine is shared). */
  readonly loadAverage: { readonly start: string; readonly end: string };
}

/** Issue 26: fan-out to the last of 10k subscribers stays within 1.1x of the bare broadcast. */
export const FANOUT_RATIO_GOAL = { subscribers: 10_000, ratio: 1.1 } as const;

const COALESCE_MS = 100;
/** Beyond the coalescing window, so each update is emitted at once (its leading edge). */
const ROUND_PAUSE_MS = COALESCE_MS + 30;
/** Open files a server or subscriber process needs beside its connections (NATS, stdio, node's own). */
const FD_RESERVE = 300;
/** The servers' connection caps, above anything measured here (every subscriber comes from loopback). */
const MAX_SUBSCRIBERS_CAP = 1_000_000;

function numberFrom(read: () => string): number | undefined {
  try {
    const text = read().trim();
    if (text === 'unlimited') return Number.POSITIVE_INFINITY;
    const value = Number(text.split(/\s+/)[0]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function machineLimits(): MachineLimits {
  const shell = (command: string) => () => execFileSync('sh', ['-c', command], { encoding: 'utf8' });
  const file = (path: string) => () => readFileSync(path, 'utf8');
  let ephemeralPorts: number | undefined;
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    ephemeralPorts = high! - low! + 1;
  } catch {
    ephemeralPorts = undefined;
  }
  return {
    openFiles: numberFrom(shell('ulimit -n')),
    openFilesHard: numberFrom(shell('ulimit -Hn')),
    fileMax: numberFrom(file('/proc/sys/fs/file-max')),
    ephemeralPorts,
    conntrackMax: numberFrom(file('/proc/sys/net/netfilter/nf_conntrack_max')),
  };
}

function formatLimits(limits: MachineLimits): string {
  const n = (value: number | undefined) => (value === undefined ? '?' : fmtInt(value));
  return (
    `open files per process ${n(limits.openFiles)} (hard ${n(limits.openFilesHard)}), fs.file-max ${n(limits.fileMax)}, ` +
    `${n(limits.ephemeralPorts)} ephemeral ports per source address, nf_conntrack_max ${n(limits.conntrackMax)}`
  );
}

/** Most connections one process can hold under the open-file limit. */
function connectionsPerProcess(limits: MachineLimits): number {
  return limits.openFiles === undefined ? Number.POSITIVE_INFINITY : Math.max(0, limits.openFiles - FD_RESERVE);
}

const loadAverage = (): string => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
};

type ClientsChild = BenchChild<SseClientMessage>;

/** A server process of either side: where its subscribers connect, and its usage on request. */
interface ServerProcess {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly child: BenchChild<ReplicaMessage> | BenchChild<BroadcastMessage>;
}

async function usageOf(server: ServerProcess, gc: boolean): Promise<ProcessUsage> {
  server.child.send({ type: 'usage', gc });
  return (server.child as BenchChild<ProcessUsage>).next((m): m is ProcessUsage => m.type === 'usage', 30_000);
}

async function cpuOf(servers: readonly ServerProcess[]): Promise<number> {
  const usages = await Promise.all(servers.map((server) => usageOf(server, false)));
  return usages.reduce((sum, usage) => sum + usage.cpuMs, 0);
}

/** One side's subscribers, opened and ready: a subscriber process per slice of a server's share. */
interface Subscribers {
  readonly clients: Array<{ child: ClientsChild; offset: number }>;
  readonly opened: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly openMs: number;
  readonly memory: MemoryPerSubscriber[];
}

let nextSourceAddress = 2;

async function openSubscribers(
  name: string,
  servers: readonly ServerProcess[],
  perServer: number,
  clientsPerServer: number,
  settings: { openBatch: number; openTimeoutMs: number },
  log: (line: string) => void,
): Promise<Subscribers> {
  const before = await Promise.all(servers.map((server) => usageOf(server, true)));
  const startedAt = performance.now();
  const slices: Array<{ child: ClientsChild; server: ServerProcess; connections: number; localAddress: string }> = [];
  for (const server of servers) {
    for (let i = 0; i < clientsPerServer; i++) {
      const connections = Math.floor(perServer / clientsPerServer) + (i < perServer % clientsPerServer ? 1 : 0);
      if (nextSourceAddress > 254) throw new Error('out of loopback source addresses (127.0.0.2-254): fewer subscriber processes, please');
      slices.push({ child: spawnBenchChild<SseClientMessage>(new URL('./load/sse-clients.ts', import.meta.url)), server, connections, localAddress: `127.0.0.${nextSourceAddress++}` });
    }
  }
  const readies = await Promise.all(
    slices.map(async (slice) => {
      slice.child.send({
        type: 'open',
        host: slice.server.host,
        port: slice.server.port,
        path: slice.server.path,
        connections: slice.connections,
        batch: settings.openBatch,
        timeoutMs: settings.openTimeoutMs,
        localAddress: slice.localAddress,
      } satisfies SseOpenFrom);
      // The child's own timer reports a partial open at timeoutMs; the margin is for a machine too busy to run it on time.
      return slice.child.next((m): m is SseReady => m.type === 'ready', settings.openTimeoutMs + 60_000);
    }),
  );
  const openMs = performance.now() - startedAt;
  const after = await Promise.all(servers.map((server) => usageOf(server, true)));
  const opened = readies.reduce((sum, ready) => sum + ready.open, 0);
  const failed = readies.reduce((sum, ready) => sum + ready.failed, 0);
  const firstError = readies.find((ready) => ready.firstError)?.firstError;
  log(
    `  ${name}: ${fmtInt(opened)} subscribers ready in ${fmtInt(openMs)} ms over ${slices.length} subscriber processes (${slices.map((s) => s.localAddress).join(', ')})` +
      (failed ? `, ${fmtInt(failed)} FAILED (${firstError})` : ''),
  );
  const memory = servers.map((_, i) => {
    const held = readies.filter((_, j) => slices[j]!.server === servers[i]).reduce((sum, ready) => sum + ready.open, 0) || 1;
    return {
      rss: (after[i]!.rss - before[i]!.rss) / held,
      heapUsed: (after[i]!.heapUsed - before[i]!.heapUsed) / held,
      external: (after[i]!.external - before[i]!.external) / held,
      rssTotal: after[i]!.rss,
    };
  });
  const clients: Subscribers['clients'] = [];
  for (const slice of slices) clients.push({ child: slice.child, offset: await clockOffset(slice.child) });
  return { clients, opened, failed, firstError, openMs, memory };
}

/** One side's rounds so far. */
interface SideRounds {
  readonly lastFromSend: number[];
  readonly lastFrom204: number[];
  readonly perSubscriber: Float64Array[];
  missing: number;
  cpuMs: number;
}

let triggerIds = 0;

/** Arms every subscriber process, sends the side's request(s), and waits for every report. */
async function runRound(
  round: number,
  servers: readonly ServerProcess[],
  subscribers: Subscribers,
  trigger: BenchChild<FleetTriggerMessage>,
  triggerOffset: number,
  requests: readonly FleetRequest[],
  into: SideRounds,
  roundTimeoutMs: number,
): Promise<{ sampleFrame: string | undefined; lastFromSend: number }> {
  await sleep(ROUND_PAUSE_MS);
  await Promise.all(
    subscribers.clients.map(({ child }) => {
      child.send({ type: 'arm', round, timeoutMs: roundTimeoutMs });
      return child.next((m): m is Extract<SseClientMessage, { type: 'armed' }> => m.type === 'armed' && m.round === round, 10_000);
    }),
  );
  const cpuBefore = await cpuOf(servers);
  const id = ++triggerIds;
  trigger.send({ type: 'send', id, requests });
  const [sent, reports] = await Promise.all([
    trigger.next((m): m is FleetTriggerSent => m.type === 'sent' && m.id === id, roundTimeoutMs + 10_000),
    Promise.all(subscribers.clients.map(({ child }) => child.next((m): m is SseRound => m.type === 'round' && m.round === round, roundTimeoutMs + 10_000))),
  ]);
  const cpuMs = (await cpuOf(servers)) - cpuBefore;
  const failed = sent.answers.find((answer) => answer.status !== 204);
  if (failed) throw new Error(`round ${round}: a trigger was answered ${failed.status}, not 204`);
  const sentAt = sent.sentAt - triggerOffset;
  const answeredAt = Math.max(...sent.answers.map((answer) => answer.answeredAt)) - triggerOffset;
  let last = Number.NEGATIVE_INFINITY;
  let count = 0;
  for (const report of reports) count += report.receivedAt.length;
  const latencies = new Float64Array(count);
  let at = 0;
  let missing = 0;
  reports.forEach((report, i) => {
    const offset = subscribers.clients[i]!.offset;
    missing += report.missing;
    for (const received of report.receivedAt) {
      const time = received - offset;
      if (time > last) last = time;
      latencies[at++] = time - sentAt;
    }
  });
  const sampleFrame = reports.find((report) => report.sampleFrame)?.sampleFrame;
  if (round > 0) {
    into.missing += missing;
    into.cpuMs += cpuMs;
    into.perSubscriber.push(latencies);
    into.lastFromSend.push(last - sentAt);
    into.lastFrom204.push(last - answeredAt);
  }
  return { sampleFrame, lastFromSend: last - sentAt };
}

function pct(values: ArrayLike<number>): Percentiles {
  const [p50, p99] = quantiles(values, [0.5, 0.99]);
  return { p50: p50!, p99: p99! };
}

function pooled(parts: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

function sideResult(name: 'ours' | 'baseline', subscribers: Subscribers, rounds: SideRounds, measured: number): FleetSideResult {
  return {
    name,
    opened: subscribers.opened,
    failed: subscribers.failed,
    firstError: subscribers.firstError,
    openMs: subscribers.openMs,
    missing: rounds.missing,
    lastFromSendByRound: rounds.lastFromSend,
    lastFromSend: pct(rounds.lastFromSend),
    lastFrom204: pct(rounds.lastFrom204),
    perSubscriberFromSend: pct(pooled(rounds.perSubscriber)),
    serverCpuMsPerRound: rounds.cpuMs / Math.max(1, measured),
    memory: subscribers.memory,
  };
}

async function startReplica(natsUrl: string, withChannel: boolean, env: Record<string, string>): Promise<ServerProcess> {
  const child = spawnBenchChild<ReplicaMessage>(new URL('./load/fanout-replica.ts', import.meta.url));
  child.send({ type: 'start', natsUrl, withChannel, coalesceMs: COALESCE_MS, graceMs: 30_000, env });
  const started = await child.next((m): m is ReplicaStarted => m.type === 'started', 60_000);
  const url = new URL(started.url);
  return { host: url.hostname, port: Number(url.port), path: `/api/v1/live/events?channel=${TEST_CHANNEL}`, child };
}

async function startBroadcast(): Promise<ServerProcess> {
  const child = spawnBenchChild<BroadcastMessage>(new URL('./baselines/sse-broadcast-process.ts', import.meta.url));
  child.send({ type: 'start', host: '127.0.0.1' });
  const listening = await child.next((m): m is BroadcastListening => m.type === 'listening', 30_000);
  return { host: listening.host, port: listening.port, path: listening.path, child };
}

/** Starts, or stops and writes, the CPU profile of each server (`<dir>/<name>-<i>.cpuprofile`). */
async function profileServers(servers: readonly ServerProcess[], action: 'start' | 'stop', dir: string, name: string): Promise<void> {
  await Promise.all(
    servers.map((server, i) => {
      server.child.send({ type: 'profile', action, path: join(dir, `${name}-${i}.cpuprofile`) });
      return (server.child as BenchChild<ProfileDone>).next((m): m is ProfileDone => m.type === 'profiled' && m.action === action, 60_000);
    }),
  );
}

async function setBroadcastFrame(servers: readonly ServerProcess[], frame: string): Promise<void> {
  await Promise.all(
    servers.map((server) => {
      server.child.send({ type: 'frame', frame });
      return (server.child as BenchChild<BroadcastMessage>).next((m): m is Extract<BroadcastMessage, { type: 'frame-set' }> => m.type === 'frame-set', 10_000);
    }),
  );
}

export async function runFanoutFleetBench(options: FanoutFleetOptions = {}): Promise<FanoutFleetResult> {
  const replicas = options.replicas ?? 2;
  const requested = options.subscribers ?? 50_000;
  const rounds = options.rounds ?? 20;
  const bus = options.bus ?? 'nats';
  const settings = { openBatch: options.openBatch ?? 200, openTimeoutMs: options.openTimeoutMs ?? 600_000 };
  const roundTimeoutMs = options.roundTimeoutMs ?? 20_000;
  const log = options.log ?? ((line: string) => console.log(line));
  const loadAtStart = loadAverage();

  const limits = machineLimits();
  const perProcess = connectionsPerProcess(limits);
  let perServer = Math.ceil(requested / replicas);
  let limit: string | undefined;
  if (perServer > perProcess) {
    const hard = limits.openFilesHard !== undefined && limits.openFilesHard <= (limits.openFiles ?? 0) ? ` (the hard limit is ${fmtInt(limits.openFilesHard)} too: raising it needs CAP_SYS_RESOURCE or a higher limit from whatever starts this shell)` : '';
    const capped = Math.floor(perProcess / 100) * 100;
    limit =
      `${fmtInt(requested)} over ${replicas} replicas is ${fmtInt(perServer)} connections per server process, but \`ulimit -n\` is ${fmtInt(limits.openFiles ?? 0)}${hard}; ` +
      `measured ${fmtInt(capped)} per process (${fmtInt(capped * replicas)} in all) instead; for ${fmtInt(requested)} in all here, use --replicas=${Math.ceil(requested / capped)}`;
    perServer = capped;
    log(`  LIMIT: ${limit}`);
  }
  const clientCap = Math.min(options.clientsPerProcess ?? 12_500, perProcess, (limits.ephemeralPorts ?? Number.POSITIVE_INFINITY) - 1_000);
  const clientsPerServer = Math.ceil(perServer / clientCap);

  // Every helper process registers a kill-on-exit listener: a dozen of them is expected here.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 8 + 4 * replicas * (clientsPerServer + 1)));
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const started: BenchBus = await startBenchBus(bus);
    cleanups.push(() => started.stop());
    const natsUrl = started.serverOptions.natsUrl!;
    const env = { ...started.serverOptions.env, SSE_MAX_CONNECTIONS: String(MAX_SUBSCRIBERS_CAP), SSE_MAX_CONNECTIONS_PER_CLIENT: String(MAX_SUBSCRIBERS_CAP) };

    const ourServers: ServerProcess[] = [];
    for (let i = 0; i < replicas; i++) {
      // The first creates the channel; the others then start on the store that has it.
      const replica = await startReplica(natsUrl, i === 0, env);
      cleanups.push(() => replica.child.stop());
      ourServers.push(replica);
    }
    const bareServers: ServerProcess[] = [];
    for (let i = 0; i < replicas; i++) {
      const bare = await startBroadcast();
      cleanups.push(() => bare.child.stop());
      bareServers.push(bare);
    }
    const trigger = spawnBenchChild<FleetTriggerMessage>(new URL('./load/fleet-trigger.ts', import.meta.url));
    cleanups.push(() => trigger.stop());

    const webhookUrl = `http://${ourServers[0]!.host}:${ourServers[0]!.port}/webhooks/twitch`;
    const twitch: EventSubSender = createEventSubSender({ secret: TEST_SECRET, callback: webhookUrl, broadcaster: TEST_BROADCASTER });
    const webhook = (request: { headers: Record<string, string>; body: string }): FleetRequest[] => [{ url: webhookUrl, headers: { ...request.headers }, body: request.body }];
    // Live before anyone connects: every replica's hub then holds the record the snapshots are made from.
    const online = ++triggerIds;
    trigger.send({ type: 'send', id: online, requests: webhook(twitch.streamOnline()) });
    const wentLive = await trigger.next((m): m is FleetTriggerSent => m.type === 'sent' && m.id === online, 30_000);
    if (wentLive.answers[0]?.status !== 204) throw new Error(`stream.online was answered ${wentLive.answers[0]?.status}`);
    if (bus === 'nats-cluster') log(`  nats-cluster: streams kept in ${await started.replicasOf(STREAMS.liveStatus.name)} copies`);

    log(`  ${fmtInt(perServer)} subscribers per server process, ${replicas} per side, ${clientsPerServer} subscriber processes per server`);
    const ours = await openSubscribers('ours', ourServers, perServer, clientsPerServer, settings, log);
    cleanups.push(() => Promise.all(ours.clients.map(({ child }) => child.stop())).then(() => undefined));
    const bare = await openSubscribers('baseline', bareServers, perServer, clientsPerServer, settings, log);
    cleanups.push(() => Promise.all(bare.clients.map(({ child }) => child.stop())).then(() => undefined));
    const triggerOffset = await clockOffset(trigger);

    const ourRounds: SideRounds = { lastFromSend: [], lastFrom204: [], perSubscriber: [], missing: 0, cpuMs: 0 };
    const bareRounds: SideRounds = { lastFromSend: [], lastFrom204: [], perSubscriber: [], missing: 0, cpuMs: 0 };
    const roundRatios: number[] = [];
    const profileDir = options.profileDir;
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      await profileServers(ourServers, 'start', profileDir, 'ours-replica');
      await profileServers(bareServers, 'start', profileDir, 'baseline');
    }
    const runOurs = async (round: number) => {
      const title = `fleet fanout ${triggerIds} round ${round}`;
      const result = await runRound(round, ourServers, ours, trigger, triggerOffset, webhook(twitch.channelUpdate({ title })), ourRounds, roundTimeoutMs);
      // The baseline writes the bytes ours just sent (same size; the cursor id differs by round).
      if (result.sampleFrame) await setBroadcastFrame(bareServers, result.sampleFrame);
      return result.lastFromSend;
    };
    const runBare = async (round: number) => {
      const requests = bareServers.map((server) => ({ url: `http://${server.host}:${server.port}/trigger`, headers: {}, body: '' }));
      return (await runRound(round, bareServers, bare, trigger, triggerOffset, requests, bareRounds, roundTimeoutMs)).lastFromSend;
    };
    for (let round = 0; round <= rounds; round++) {
      // Round 0 (warm-up) runs ours first: its frame is what the baseline then writes.
      const oursFirst = round % 2 === 0;
      const first = oursFirst ? await runOurs(round) : await runBare(round);
      const second = oursFirst ? await runBare(round) : await runOurs(round);
      const [oursMs, bareMs] = oursFirst ? [first, second] : [second, first];
      if (round === 0) continue;
      roundRatios.push(oursMs / bareMs);
      log(`  round ${String(round).padStart(2)}: ours ${fmt(oursMs)} ms, baseline ${fmt(bareMs)} ms, ratio ${fmt(oursMs / bareMs, 2)}x${oursFirst ? '' : ' (baseline first)'}`);
    }
    if (profileDir) {
      await profileServers(ourServers, 'stop', profileDir, 'ours-replica');
      await profileServers(bareServers, 'stop', profileDir, 'baseline');
      log(`  CPU profiles of the rounds (warm-up included) in ${profileDir}: read with bench/support/profile-top.ts`);
    }
    for (const { child } of [...ours.clients, ...bare.clients]) {
      child.send({ type: 'close' });
      await child.next((m): m is Extract<SseClientMessage, { type: 'closed' }> => m.type === 'closed', 30_000);
    }
    const oursResult = sideResult('ours', ours, ourRounds, rounds);
    const bareResult = sideResult('baseline', bare, bareRounds, rounds);
    return {
      bus,
      replicas,
      requested,
      perServer,
      clientProcessesPerServer: clientsPerServer,
      rounds,
      limits,
      limit,
      ours: oursResult,
      baseline: bareResult,
      roundRatios,
      ratioP50: oursResult.lastFromSend.p50 / bareResult.lastFromSend.p50,
      ratioP99: oursResult.lastFromSend.p99 / bareResult.lastFromSend.p99,
      loadAverage: { start: loadAtStart, end: loadAverage() },
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

export function formatFanoutFleet(result: FanoutFleetResult): string {
  const total = result.perServer * result.replicas;
  const lines = [
    `fanout fleet: ${fmtInt(total)} SSE subscribers over ${result.replicas} replicas (${fmtInt(result.perServer)} each, ${result.clientProcessesPerServer} subscriber processes per server), ` +
      `bus ${result.bus}, ${result.rounds} rounds per side (+1 warm-up), alternating; load average ${result.loadAverage.start} -> ${result.loadAverage.end}`,
    `machine: ${formatLimits(result.limits)}`,
  ];
  if (result.limit) lines.push(`LIMIT: ${result.limit}`);
  const pp = (p: Percentiles) => `${fmt(p.p50)} / ${fmt(p.p99)}`;
  const kib = (bytes: number) => fmt(bytes / 1024, 2);
  const rows: string[][] = [
    ['side', 'ready', 'open s', 'to last p50/p99 ms (from send)', 'to last p50/p99 ms (from 204)', 'per-sub p50/p99 ms (from send)', 'missed', 'srv CPU ms/round', 'KiB/sub RSS (heap, ext) per process', 'RSS MiB'],
  ];
  for (const side of [result.ours, result.baseline]) {
    rows.push([
      side.name,
      `${fmtInt(side.opened)}${side.failed ? ` (${fmtInt(side.failed)} failed)` : ''}`,
      fmt(side.openMs / 1000),
      pp(side.lastFromSend),
      pp(side.lastFrom204),
      pp(side.perSubscriberFromSend),
      fmtInt(side.missing),
      fmt(side.serverCpuMsPerRound),
      side.memory.map((m) => `${kib(m.rss)} (${kib(m.heapUsed)}, ${kib(m.external)})`).join('; '),
      side.memory.map((m) => fmt(m.rssTotal / 2 ** 20, 0)).join('; '),
    ]);
  }
  lines.push(table(rows));
  lines.push(`per-round ratio ours/baseline (to last, from send): ${result.roundRatios.map((ratio) => fmt(ratio, 2)).join(' ')}`);
  const complete = result.ours.failed === 0 && result.ours.missing === 0 && result.baseline.failed === 0 && result.baseline.missing === 0;
  lines.push(
    `ratio at ${fmtInt(total)} over ${result.replicas} replicas: p50 ${fmt(result.ratioP50, 2)}x, p99 ${fmt(result.ratioP99, 2)}x, median of rounds ${fmt(median(result.roundRatios), 2)}x` +
      (complete ? '' : ' (not every subscriber connected or received every round: see ready / missed)'),
  );
  return lines.join('\n');
}

/** The single-server line for the <= 1.1x bar, from a bench/fanout.ts result. */
export function formatRatioGoal(single: FanoutBenchResult): string {
  const row = single.rows.find((r) => r.subscribers === FANOUT_RATIO_GOAL.subscribers);
  if (!row || row.ratioP50 === undefined) return `goal: ${fmtInt(FANOUT_RATIO_GOAL.subscribers)} subscribers within ${FANOUT_RATIO_GOAL.ratio}x of the bare broadcast: n/a (not measured${row?.limit ? `: ${row.limit}` : ''})`;
  const complete = row.ours !== undefined && row.ours.opened === row.subscribers && row.ours.missing === 0;
  return (
    `goal: ${fmtInt(FANOUT_RATIO_GOAL.subscribers)} subscribers (one server, bus ${single.bus}) within ${FANOUT_RATIO_GOAL.ratio}x of the bare broadcast, to last from send: ` +
    `p50 ${fmt(row.ratioP50, 2)}x ${verdict(complete && row.ratioP50 <= FANOUT_RATIO_GOAL.ratio)}, p99 ${fmt(row.ratioP99 ?? Number.NaN, 2)}x ${verdict(complete && (row.ratioP99 ?? Infinity) <= FANOUT_RATIO_GOAL.ratio)}`
  );
}

function flag(args: readonly string[], name: string): string | undefined {
  return args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const number = (name: string) => {
    const text = flag(args, name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive whole number; got ${text}`);
    return value;
  };
  const bus = flag(args, 'bus') ?? 'nats';
  if (bus !== 'nats' && bus !== 'nats-cluster') throw new Error(`--bus is nats or nats-cluster (replicas share a NATS); got ${bus}`);
  const single = flag(args, 'single') ?? '10000';
  const rounds = number('rounds');
  if (single !== 'off') {
    console.log(`single server, ${single} subscribers (bench/fanout.ts, memory bus), load average ${loadAverage()}:`);
    const result = await runFanoutBench({ subscribers: [Number(single)], ...(rounds ? { rounds } : {}) });
    console.log(formatFanout(result));
    console.log(formatRatioGoal(result));
  }
  const replicas = number('replicas');
  const subscribers = number('subscribers');
  const clientsPerProcess = number('clients-per-process');
  const profileDir = flag(args, 'profile');
  console.log(`\nfleet, load average ${loadAverage()}:`);
  const fleet = await runFanoutFleetBench({
    bus,
    ...(replicas ? { replicas } : {}),
    ...(subscribers ? { subscribers } : {}),
    ...(rounds ? { rounds } : {}),
    ...(clientsPerProcess ? { clientsPerProcess } : {}),
    ...(profileDir ? { profileDir } : {}),
  });
  console.log(formatFanoutFleet(fleet));
}
