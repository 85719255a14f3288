import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { startNatsCluster, type NatsClusterHandle } from '../../test/support/nats-cluster.js';
import { startNatsServer } from '../../test/support/nats-server.js';
import { childrenNamed, cpuMsOf } from './child-cpu.js';

/**
 * Which bus a bench runs the server on: the in-memory bus, one `nats-server`, or a three-node
 * JetStream cluster with every stream and bucket in three copies (issue 20's deployment).
 */
export type BenchBusKind = 'memory' | 'nats' | 'nats-cluster';

export const BENCH_BUS_KINDS: readonly BenchBusKind[] = ['memory', 'nats', 'nats-cluster'];

/** A started bus and the server configuration that points at it. */
export interface BenchBus {
  readonly kind: BenchBusKind;
  /** For `startTestServer`: NATS_URL and the replica count, or nothing for the memory bus. */
  readonly serverOptions: { readonly natsUrl?: string; readonly env: Record<string, string> };
  /** How many copies JetStream keeps of `stream` (1 off a cluster), to print beside the figures. */
  replicasOf(stream: string): Promise<number>;
  /**
   * CPU ms the bus's own `nats-server` processes have used so far, all nodes together (undefined
   * for the memory bus, or where `/proc` cannot be read): the cluster's three nodes share the
   * machine's cores with the server under test, so a bench prints their cost per request too.
   */
  cpuMs(): number | undefined;
  /** Which node leads `stream` now (`n1`), on the cluster; undefined elsewhere or while it has no leader. */
  leaderOf(stream: string): Promise<string | undefined>;
  /**
   * On the cluster: makes node `node` (`n0`..`n2`) the leader of `stream` and of its durable
   * `consumer` (step-downs until elected there, bounded). Where they lead decides how much of a
   * request crosses a route (bench/README, "ingest on the cluster, stop 22"), and a random
   * placement moved the figure more than any code change; a bench that compares two trees can
   * pin it. Throws off a cluster.
   */
  placeLeaders(stream: string, consumer: string, node: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the bus a bench asked for. On the cluster the server in the bench process connects to
 * node 0 (it learns the other two from the cluster and fails over to them) with BUS_REPLICAS=3,
 * so every publish is acknowledged only once a second node has stored it: the cost measured.
 */
export async function startBenchBus(kind: BenchBusKind): Promise<BenchBus> {
  // The nats-server children that appear while this bus starts are its nodes.
  const before = new Set(childrenNamed(NATS_SERVER));
  const nodesStarted = (): (() => number | undefined) => {
    const pids = childrenNamed(NATS_SERVER).filter((pid) => !before.has(pid));
    return () => cpuMsOf(pids);
  };
  switch (kind) {
    case 'memory':
      return { kind, serverOptions: { env: {} }, replicasOf: () => Promise.resolve(1), cpuMs: () => undefined, leaderOf: noLeader, placeLeaders: notACluster, stop: () => Promise.resolve() };
    case 'nats': {
      const nats = await startNatsServer();
      return { kind, serverOptions: { natsUrl: nats.url, env: {} }, replicasOf: () => Promise.resolve(1), cpuMs: nodesStarted(), leaderOf: noLeader, placeLeaders: notACluster, stop: () => nats.stop() };
    }
    case 'nats-cluster': {
      const cluster = await startNatsCluster();
      return {
        kind,
        serverOptions: { natsUrl: cluster.urls[0]!, env: { BUS_REPLICAS: '3' } },
        replicasOf: (stream) => cluster.streamReplicas(stream),
        cpuMs: nodesStarted(),
        async leaderOf(stream) {
          const node = await cluster.streamLeader(stream);
          return node === undefined ? undefined : cluster.names[node];
        },
        placeLeaders: (stream, consumer, node) => placeLeaders(cluster, stream, consumer, node),
        stop: () => cluster.stop(),
      };
    }
  }
}

const noLeader = (): Promise<undefined> => Promise.resolve(undefined);

const notACluster = (): Promise<void> => Promise.reject(new Error('leaders can be placed on the three-node cluster only'));

/** How long `placeLeaders` keeps asking for step-downs. */
const PLACE_TIMEOUT_MS = 60_000;

async function placeLeaders(cluster: NatsClusterHandle, stream: string, consumer: string, node: string): Promise<void> {
  const index = cluster.names.indexOf(node);
  if (index < 0) throw new Error(`no node ${node} in the cluster (${cluster.names.join(', ')})`);
  await cluster.moveStreamLeader(stream, index, PLACE_TIMEOUT_MS);
  const nc = await connect({ servers: [...cluster.urls], timeout: 2_000 });
  try {
    const jsm = await nc.jetstreamManager({ timeout: 2_000 });
    const deadline = Date.now() + PLACE_TIMEOUT_MS;
    for (;;) {
      const leader = (await jsm.consumers.info(stream, consumer).catch(() => undefined))?.cluster?.leader;
      if (leader === node) return;
      if (Date.now() > deadline) throw new Error(`${stream}/${consumer}'s leader is ${leader ?? 'none'}, not ${node}, after ${PLACE_TIMEOUT_MS} ms of step-downs`);
      // An election picks any node: ask again until it lands on `node`.
      if (leader !== undefined) await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`, undefined, { timeout: 2_000 }).catch(() => undefined);
      await sleep(500);
    }
  } finally {
    await nc.close();
  }
}

/** The kernel's name (`comm`) of a nats-server process. */
const NATS_SERVER = 'nats-server';

/** `--bus=nats,nats-cluster` from a bench's command line, or undefined when not given. */
export function busesFromArgv(argv: readonly string[]): BenchBusKind[] | undefined {
  const flag = argv.find((arg) => arg.startsWith('--bus='));
  if (!flag) return undefined;
  const kinds = flag.slice('--bus='.length).split(',').filter(Boolean);
  const unknown = kinds.filter((kind) => !BENCH_BUS_KINDS.includes(kind as BenchBusKind));
  if (unknown.length > 0 || kinds.length === 0) throw new Error(`--bus takes a comma-separated list of ${BENCH_BUS_KINDS.join(', ')}; got ${flag}`);
  return kinds as BenchBusKind[];
}
