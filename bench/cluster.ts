/**
 * Cluster benchmark (issue 20): what a three-node JetStream cluster with every stream in three
 * copies costs against one nats-server, for the two paths a fleet lives by, in one run:
 *
 * - ingest (bench/ingest.ts): signed webhooks per second into the bus; each round is a run of the
 *   bare Koa + HMAC baseline, then one of ours on one nats-server and one on the cluster, so the
 *   cost, the cluster's req/s over the single node's per round, is measured seconds apart.
 * - fan-out (bench/fanout.ts): a webhook to the last of N SSE subscribers (the raw event and the
 *   status each acknowledged by the stream's replicas first), each bus beside a bare SSE
 *   broadcast; the cost is the cluster's time to the last subscriber over the single node's
 *   (these two run one after the other, so the ratio over each run's own bare broadcast is
 *   printed too).
 *
 * Everything is on this machine: the three nats-servers share its cores with the server and the
 * load generators, so this is the cost of replication itself (an extra acknowledgement from a
 * second node per publish) plus the CPU the extra servers take, not a network's latency.
 * `node --import tsx bench/cluster.ts [--subscribers=1000,10000]`.
 */
import { pathToFileURL } from 'node:url';
import { formatFanout, runFanoutBench, type FanoutBenchResult } from './fanout.js';
import { clusterVersusSingle, formatIngest, runIngestBench, type IngestBenchResult } from './ingest.js';
import { fmt, fmtInt } from './support/stats.js';

export interface ClusterBenchOptions {
  /** Subscribers per fan-out measurement (default 1,000 and 10,000, like bench/fanout.ts). */
  readonly subscribers?: readonly number[];
  readonly log?: (line: string) => void;
}

export interface ClusterBenchResult {
  readonly ingest: IngestBenchResult;
  readonly fanout: { readonly single: FanoutBenchResult; readonly cluster: FanoutBenchResult };
}

export async function runClusterBench(options: ClusterBenchOptions = {}): Promise<ClusterBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const ingest = await runIngestBench({ buses: ['nats', 'nats-cluster'], log });
  const fanoutOptions = { log, ...(options.subscribers ? { subscribers: options.subscribers } : {}) };
  const single = await runFanoutBench({ ...fanoutOptions, bus: 'nats' });
  const cluster = await runFanoutBench({ ...fanoutOptions, bus: 'nats-cluster' });
  return { ingest, fanout: { single, cluster } };
}

/** One line per comparison: the cluster's cost as a ratio over the single node (1.0 = none). */
export function clusterSummary(result: ClusterBenchResult): string[] {
  const lines: string[] = [];
  const ingest = clusterVersusSingle(result.ingest.rows);
  const row = (bus: string) => result.ingest.rows.find((r) => r.bus === bus && !r.error);
  const single = row('nats');
  const cluster = row('nats-cluster');
  lines.push(
    ingest && single && cluster
      ? `cluster ingest: ${fmtInt(cluster.ours.requestsPerSecond)} req/s on the cluster vs ${fmtInt(single.ours.requestsPerSecond)} on one node; ` +
          `cluster/single per round (both right after one baseline run) ${ingest.perRound.map((ratio) => fmt(ratio, 2)).join(', ')}, median ${fmt(ingest.median, 2)}; ` +
          `p50/p99 ${fmt(cluster.ours.p50Ms)} / ${fmt(cluster.ours.p99Ms)} ms vs ${fmt(single.ours.p50Ms)} / ${fmt(single.ours.p99Ms)} ms`
      : 'cluster ingest: not measured on both buses',
  );
  for (const one of result.fanout.single.rows) {
    const other = result.fanout.cluster.rows.find((r) => r.subscribers === one.subscribers);
    const n = fmtInt(one.subscribers);
    if (!one.ours || !other?.ours || !one.baseline || !other.baseline) {
      lines.push(`cluster fanout ${n}: not measured on both buses${one.limit ?? other?.limit ? ` (${one.limit ?? other?.limit})` : ''}`);
      continue;
    }
    const p50 = other.ours.lastFromSend.p50 / one.ours.lastFromSend.p50;
    const p99 = other.ours.lastFromSend.p99 / one.ours.lastFromSend.p99;
    const normalized50 = other.ours.lastFromSend.p50 / other.baseline.lastFromSend.p50 / (one.ours.lastFromSend.p50 / one.baseline.lastFromSend.p50);
    lines.push(
      `cluster fanout ${n}: to the last subscriber from send p50/p99 ${fmt(other.ours.lastFromSend.p50)} / ${fmt(other.ours.lastFromSend.p99)} ms on the cluster ` +
        `vs ${fmt(one.ours.lastFromSend.p50)} / ${fmt(one.ours.lastFromSend.p99)} ms on one node: cluster/single p50 ${fmt(p50, 2)}x, p99 ${fmt(p99, 2)}x ` +
        `(p50 over each run's bare broadcast: ${fmt(normalized50, 2)}x)`,
    );
  }
  return lines;
}

export function formatCluster(result: ClusterBenchResult): string {
  return [
    formatIngest(result.ingest),
    'fan-out on one nats-server:',
    formatFanout(result.fanout.single),
    'fan-out on the three-node cluster (R3):',
    formatFanout(result.fanout.cluster),
    ...clusterSummary(result),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const subscribers = process.argv
    .slice(2)
    .find((arg) => arg.startsWith('--subscribers='))
    ?.slice('--subscribers='.length)
    .split(',')
    .map(Number);
  console.log(formatCluster(await runClusterBench(subscribers ? { subscribers } : {})));
}
