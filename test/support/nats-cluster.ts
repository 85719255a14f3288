import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { findNatsServer } from '../../server/src/embedded-nats.js';
import { freePort } from '../../server/src/free-port.js';
import { spawnNatsServer } from './nats-server.js';

/**
 * Three real `nats-server` processes on 127.0.0.1 forming one JetStream cluster (routes between
 * all three), owned by one test file: what a fleet runs on, so replicated streams, leader
 * elections and a node's crash are the real thing, not a single node standing in for them.
 */
export interface NatsClusterHandle {
  /** Each node's client URL, `nats://127.0.0.1:<port>`, by node index; stays the same across `kill`/`restart`. */
  readonly urls: readonly string[];
  /** Each node's `server_name` (`n0`, `n1`, `n2`), by node index: what JetStream names a leader by. */
  readonly names: readonly string[];
  /** All three client URLs, comma-separated with node `first` first: a `NATS_URL` that prefers one node. */
  serversFrom(first: number): string;
  /** SIGKILL of node `i`, like a crash: it stays down until `restart(i)`; its store is kept. */
  kill(i: number): Promise<void>;
  /** Starts node `i` again on the same ports, config and store (stopping it gracefully first if it runs). */
  restart(i: number): Promise<void>;
  /** Waits until the cluster's JetStream has a meta leader (account info answers), bounded. */
  waitForJetStreamMeta(timeoutMs?: number): Promise<void>;
  /** Index of the node that leads `stream`'s replicas now, or undefined while it has no leader. */
  streamLeader(stream: string): Promise<number | undefined>;
  /**
   * Makes node `node` the leader of `stream` (asks the leader to step down until JetStream elects
   * that node, bounded): a test then chooses which node's death also takes a leader with it.
   */
  moveStreamLeader(stream: string, node: number, timeoutMs?: number): Promise<void>;
  /** How many copies of `stream` the cluster keeps (its config's `num_replicas`). */
  streamReplicas(stream: string): Promise<number>;
  /** Stops all three gracefully and removes their stores and configs. Final. */
  stop(): Promise<void>;
}

/** How long one node gets to say it is ready, and to exit when asked. */
const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 5_000;
const META_TIMEOUT_MS = 20_000;
const CLUSTER_NAME = 'live-upload-test';
const NODES = 3;

interface Node {
  readonly name: string;
  readonly clientPort: number;
  readonly configPath: string;
  child: ChildProcess | undefined;
}

/**
 * Writes a config file per node (client port, route port, `server_name`, the shared cluster
 * name, routes to the two others, a JetStream store of its own), starts the three and resolves
 * once each accepts clients and the cluster has a JetStream meta leader. Throws a clear error
 * when `nats-server` is not installed.
 */
export async function startNatsCluster(): Promise<NatsClusterHandle> {
  const binary = findNatsServer();
  if (!binary) {
    throw new Error(
      'nats-server not found on PATH: the cluster tests need a real nats-server (2.9 or newer) with JetStream; ' +
        'install it (e.g. `apt-get install nats-server`) or put the binary on PATH',
    );
  }
  const root = await mkdtemp(join(tmpdir(), 'live-upload-nats-cluster-'));
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  // freePort answers a port that was free a moment ago: pick all six before any node binds one,
  // and never the same twice.
  while (clientPorts.length + routePorts.length < NODES * 2) {
    const port = await freePort();
    if (clientPorts.includes(port) || routePorts.includes(port)) continue;
    (clientPorts.length < NODES ? clientPorts : routePorts).push(port);
  }
  const nodes: Node[] = [];
  for (let i = 0; i < NODES; i++) {
    const name = `n${i}`;
    const storeDir = join(root, name, 'jetstream');
    await mkdir(storeDir, { recursive: true });
    const routes = routePorts.flatMap((port, j) => (j === i ? [] : [`nats-route://127.0.0.1:${port}`]));
    const configPath = join(root, name, 'nats.conf');
    await writeFile(
      configPath,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${clientPorts[i]}`,
        `jetstream {`,
        `  store_dir: ${JSON.stringify(storeDir)}`,
        `}`,
        `cluster {`,
        `  name: ${CLUSTER_NAME}`,
        `  listen: 127.0.0.1:${routePorts[i]}`,
        `  routes: [`,
        ...routes.map((route) => `    ${route}`),
        `  ]`,
        `}`,
        '',
      ].join('\n'),
    );
    nodes.push({ name, clientPort: clientPorts[i]!, configPath, child: undefined });
  }

  // A test run that dies without stop() must not leave servers behind.
  const killOnExit = (): void => {
    for (const node of nodes) node.child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  async function halt(node: Node, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const running = node.child;
    node.child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  const urls = nodes.map((node) => `nats://127.0.0.1:${node.clientPort}`);
  const names = nodes.map((node) => node.name);

  /** A short-lived connection to any running node, for the cluster's own questions. */
  async function withConnection<T>(use: (nc: NatsConnection) => Promise<T>): Promise<T> {
    const running = nodes.flatMap((node, i) => (node.child ? [urls[i]!] : []));
    const nc = await connect({ servers: running, timeout: 2_000, reconnect: false });
    try {
      return await use(nc);
    } finally {
      await nc.close();
    }
  }

  const handle: NatsClusterHandle = {
    urls,
    names,
    serversFrom(first) {
      return [urls[first]!, ...urls.filter((_, i) => i !== first)].join(',');
    },
    async kill(i) {
      await halt(nodes[i]!, 'SIGKILL');
    },
    async restart(i) {
      const node = nodes[i]!;
      await halt(node, 'SIGTERM');
      node.child = await launch(binary, node);
    },
    async waitForJetStreamMeta(timeoutMs = META_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        try {
          await withConnection(async (nc) => (await nc.jetstreamManager({ timeout: 2_000 })).getAccountInfo());
          return;
        } catch (error) {
          last = error;
        }
        if (Date.now() > deadline) {
          throw new Error(`the NATS cluster elected no JetStream meta leader within ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`);
        }
        await sleep(100);
      }
    },
    async streamLeader(stream) {
      const leader = await withConnection(async (nc) => (await (await nc.jetstreamManager({ timeout: 2_000 })).streams.info(stream)).cluster?.leader);
      const index = leader === undefined ? -1 : names.indexOf(leader);
      return index === -1 ? undefined : index;
    },
    async moveStreamLeader(stream, node, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const leader = await handle.streamLeader(stream).catch(() => undefined);
        if (leader === node) return;
        if (Date.now() > deadline) throw new Error(`${stream}'s leader is node ${leader}, not node ${node}, after ${timeoutMs} ms of step-downs`);
        // Only with a leader to step down; the election after one takes a moment, and may pick any node.
        if (leader !== undefined) await withConnection((nc) => nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 2_000 })).catch(() => undefined);
        await sleep(250);
      }
    },
    async streamReplicas(stream) {
      return withConnection(async (nc) => (await (await nc.jetstreamManager({ timeout: 2_000 })).streams.info(stream)).config.num_replicas);
    },
    async stop() {
      await Promise.all(nodes.map((node) => halt(node, 'SIGTERM')));
      process.off('exit', killOnExit);
      await rm(root, { recursive: true, force: true });
    },
  };

  try {
    // All three at once: each waits for its routes, and the meta group needs two of them up.
    await Promise.all(
      nodes.map(async (node) => {
        node.child = await launch(binary, node);
      }),
    );
    await handle.waitForJetStreamMeta();
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** Spawns one node on its config file and waits for its "Server is ready" log line, bounded. */
function launch(binary: string, node: Node): Promise<ChildProcess> {
  return spawnNatsServer(binary, ['-c', node.configPath], `nats-server ${node.name}`, READY_TIMEOUT_MS);
}
