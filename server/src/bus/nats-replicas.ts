import { setTimeout as sleep } from 'node:timers/promises';
import { StorageType, type JetStreamManager, type ServerInfo } from 'nats';
import type { BusLogger } from './bus-logger.js';
import { JETSTREAM_ERROR_CODES, describeError, jetStreamErrorCode } from './nats-errors.js';
import { isUnanswered } from './nats-unanswered.js';

/** Most replicas JetStream keeps of a stream. */
export const MAX_JETSTREAM_REPLICAS = 5;

/** The stream the replica check creates and deletes at once; one name, so crashed checks leave at most one. */
const PROBE_STREAM = 'LIVE_UPLOAD_REPLICA_PROBE';
const PROBE_SUBJECT = '_live_upload.replica_probe';

/** How long the check waits for advertised servers' JetStream to join before it gives up. */
const PEERS_JOIN_TIMEOUT_MS = 15_000;
const PEERS_JOIN_POLL_MS = 500;

/**
 * The NATS server or cluster cannot keep as many replicas of each stream and KV bucket as the
 * bus was configured for: a single server keeps one, a cluster at most one per JetStream server.
 */
export class BusReplicasError extends Error {
  constructor(
    readonly replicas: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${replicas} replicas of each stream and KV bucket cannot be met: ${reason}`, options);
    this.name = 'BusReplicasError';
  }
}

/** Throws unless `replicas` is a whole number from 1 to 5 (JetStream's range). */
export function assertReplicaCount(replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_JETSTREAM_REPLICAS) {
    throw new RangeError(`replicas must be a whole number from 1 to ${MAX_JETSTREAM_REPLICAS}, got ${replicas}`);
  }
}

/**
 * Checks at start that the NATS deployment can hold `replicas` copies of a stream, by asking it
 * to: a tiny in-memory stream with that many replicas is created and deleted. JetStream has no
 * non-system API that counts its servers, and this asks exactly the question that matters (are
 * there enough JetStream servers with room), so a server that cannot meet the count fails the
 * start with a clear `BusReplicasError` instead of the first stream or bucket failing later with
 * "no suitable peers for placement". One replica needs no check.
 */
export async function assertJetStreamReplicas(
  jsm: JetStreamManager,
  server: Pick<ServerInfo, 'cluster' | 'connect_urls'>,
  replicas: number,
  where: string,
  joinTimeoutMs = PEERS_JOIN_TIMEOUT_MS,
): Promise<void> {
  if (replicas === 1) return;
  const deadline = Date.now() + joinTimeoutMs;
  let cleared = false;
  for (;;) {
    try {
      await jsm.streams.add({
        name: PROBE_STREAM,
        subjects: [PROBE_SUBJECT],
        storage: StorageType.Memory,
        num_replicas: replicas,
        max_msgs: 1,
        max_bytes: 1024,
      });
      break;
    } catch (err) {
      const code = jetStreamErrorCode(err);
      // Left by a check that crashed before its delete, with another count: remove it, ask again.
      if (code === JETSTREAM_ERROR_CODES.streamNameInUse && !cleared) {
        cleared = true;
        await deleteProbe(jsm);
        continue;
      }
      // A cluster that advertises enough servers may still be bringing their JetStream up
      // (the whole fleet starting at once): worth a few more tries. One that advertises too few is refused at once.
      const mayStillJoin = code !== undefined && isPlacementError(code) && (server.connect_urls?.length ?? 0) >= replicas;
      // Two replicas checking at the same moment: while one's add is being placed, JetStream
      // answers neither it nor the other's delete of the probe (2 of 7 fleets of two started at
      // once on a fresh three-node cluster failed their start here, both replicas). Ask again.
      if (!(mayStillJoin || isUnanswered(err)) || Date.now() >= deadline) throw replicasError(err, server, replicas, where);
      await sleep(PEERS_JOIN_POLL_MS);
    }
  }
  await deleteProbe(jsm);
}

async function deleteProbe(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.delete(PROBE_STREAM);
  } catch (err) {
    // Another process checking at the same moment may have deleted it first, or be adding it
    // (then this delete is never answered). The add that came before answered the question; a
    // probe left behind is removed by the next check.
    if (jetStreamErrorCode(err) !== JETSTREAM_ERROR_CODES.streamNotFound && !isUnanswered(err)) throw err;
  }
}

/** How long a re-replicated stream gets to elect a leader and bring its new replicas up to date. */
const REPLICATION_SETTLE_TIMEOUT_MS = 30_000;
const REPLICATION_SETTLE_POLL_MS = 250;

/**
 * Waits until `stream` has a leader and `replicas - 1` followers that are current, after its
 * replica count changed: meanwhile the stream answers requests with timeouts while JetStream
 * moves its raft group, and the first request of the starting server would fail. Bounded: a
 * stream still catching up after the timeout is logged and left to finish on its own.
 */
export async function waitForReplication(
  jsm: JetStreamManager,
  stream: string,
  replicas: number,
  logger: BusLogger,
  timeoutMs = REPLICATION_SETTLE_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const { cluster } = await jsm.streams.info(stream);
      const followers = cluster?.replicas ?? [];
      const current = followers.filter((peer) => peer.current).length;
      if ((replicas === 1 || cluster?.leader) && current === replicas - 1) return;
      last = `leader ${cluster?.leader ?? 'none'}, ${current} of ${replicas - 1} followers current`;
    } catch (err) {
      last = describeError(err);
    }
    await sleep(REPLICATION_SETTLE_POLL_MS);
  }
  logger.warn({ stream, replicas, state: last }, 'JetStream stream still re-replicating; going on');
}

/** Maps JetStream's placement errors to what the operator must change; anything else passes through. */
export function replicasError(err: unknown, server: Pick<ServerInfo, 'cluster' | 'connect_urls'>, replicas: number, where: string): unknown {
  const code = jetStreamErrorCode(err);
  if (code === JETSTREAM_ERROR_CODES.replicasNotSupported) {
    return new BusReplicasError(
      replicas,
      `the NATS server at ${where} is not clustered: it runs JetStream on 1 server, which keeps 1 replica (${describeError(err)})`,
      { cause: err },
    );
  }
  if (code !== undefined && isPlacementError(code)) {
    const advertised = server.connect_urls?.length;
    const cluster = server.cluster === undefined ? 'the NATS cluster' : `the NATS cluster ${server.cluster}`;
    const size = advertised === undefined ? '' : `; it advertises ${advertised} server${advertised === 1 ? '' : 's'}`;
    return new BusReplicasError(
      replicas,
      `${cluster} at ${where} has fewer than ${replicas} JetStream servers with room for a stream${size} (${describeError(err)})`,
      { cause: err },
    );
  }
  return err;
}

function isPlacementError(code: number): boolean {
  return code === JETSTREAM_ERROR_CODES.noSuitablePeers || code === JETSTREAM_ERROR_CODES.insufficientResources;
}
