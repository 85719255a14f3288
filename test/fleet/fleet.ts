import { startMain, type MainProcess } from '../support/main-process.js';
import type { NatsClusterHandle } from '../support/nats-cluster.js';

/** Secrets every replica of one fleet shares (a real fleet gets them from one secret store). */
export const FLEET_SECRETS = {
  ADMIN_TOKEN: 'fleet-admin-token-0123456789abcdef',
  TWITCH_EVENTSUB_SECRET: 'fleet-eventsub-secret-0123456789',
  UPLOAD_TOKEN_SECRET: 'fleet-upload-token-secret-0123456789abcdef',
} as const;

/**
 * What a replica of the fleet runs with: the cluster's node `node` as its NATS server, three
 * copies of every stream and bucket, the shared secrets, nothing that reaches outside this
 * machine (no demo, no Bluesky firehose), logs at warn (kept for failure messages).
 *
 * NATS_URL names only the replica's own node, not all three: nats.js shuffles a server list
 * unless told not to, so a list would not put the two replicas on different nodes, which is what
 * these tests are about. The client still fails over: it learns the other nodes' client URLs
 * from the server it is connected to (the cluster's INFO) and reconnects to one of them when its
 * node dies.
 */
export function replicaEnv(cluster: NatsClusterHandle, node: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...FLEET_SECRETS,
    NATS_URL: cluster.urls[node]!,
    BUS_REPLICAS: '3',
    DEMO: '0',
    BLUESKY_JETSTREAM_URL: 'off',
    LOG_LEVEL: 'warn',
    // Every test client is 127.0.0.1: the per-client limits are not what these tests are about.
    STATUS_RATE_LIMIT_PER_MINUTE: '100000',
    ...extra,
  };
}

/**
 * Two replicas, A on node `nodes[0]` and B on node `nodes[1]`, A first, then B. One after the
 * other, not at the same moment as an orchestrator would: what these tests are about comes after
 * the start. (Started at once, both create the same streams, buckets and consumers; the creates
 * JetStream left unanswered are asked again now (bus/nats-unanswered.ts), but once, with a second
 * fleet file running beside, a start still failed on a request with no answer in 5 s.)
 */
export async function startReplicas(
  cluster: NatsClusterHandle,
  extra: Record<string, string> = {},
  nodes: readonly [number, number] = [0, 1],
): Promise<{ a: MainProcess; b: MainProcess }> {
  const a = await startMain(replicaEnv(cluster, nodes[0], extra));
  try {
    const b = await startMain(replicaEnv(cluster, nodes[1], extra));
    return { a, b };
  } catch (error) {
    await a.kill();
    throw error;
  }
}

/** `fetch` against a replica with the fleet's admin token and JSON content type. */
export function adminFetch(replica: MainProcess, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${replica.url}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${FLEET_SECRETS.ADMIN_TOKEN}`, 'Content-Type': 'application/json', ...init.headers },
  });
}

/** Creates (PUT) channel `channel` linked to the Twitch account `userId`, through `replica`. */
export async function createTwitchChannel(replica: MainProcess, channel: string, userId: string, login: string): Promise<void> {
  const response = await adminFetch(replica, `/api/v1/channels/${channel}`, {
    method: 'PUT',
    body: JSON.stringify({ title: `Fleet ${channel}`, uploads: 'open', providers: { twitch: { user_id: userId, login } } }),
  });
  if (response.status !== 201 && response.status !== 200) throw new Error(`PUT ${channel}: ${response.status} ${await response.text()}`);
}

/** Stops a replica gracefully if it still runs, else does nothing; SIGKILL if it hangs. Never throws. */
export async function stopReplica(replica: MainProcess | undefined): Promise<void> {
  if (!replica) return;
  try {
    await replica.stop('SIGTERM', 15_000);
  } catch {
    await replica.kill();
  }
}
