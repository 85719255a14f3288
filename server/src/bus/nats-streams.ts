import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type JetStreamManager,
  type StreamConfig as JetStreamConfig,
} from 'nats';
import type { StreamConfig } from './bus.js';
import type { BusLogger } from './bus-logger.js';
import { JETSTREAM_ERROR_CODES, jetStreamErrorCode } from './nats-errors.js';
import { createWhenAnswered } from './nats-unanswered.js';
import { waitForReplication } from './nats-replicas.js';

/**
 * The JetStream settings a `StreamConfig` stands for: file storage, `replicas` copies (1 on a
 * single server, 3 on a three-node cluster: the bus's configured count, the same for every stream).
 */
export function toJetStreamConfig(config: StreamConfig, replicas = 1): Partial<JetStreamConfig> & { name: string } {
  const maxAge = nanos(config.maxAgeMs);
  // JetStream refuses a duplicate window longer than max age; 0 lets the server pick its default.
  const duplicateWindowMs = config.maxAgeMs > 0 ? Math.min(config.duplicateWindowMs, config.maxAgeMs) : config.duplicateWindowMs;
  return {
    name: config.name,
    subjects: [...config.subjects],
    retention: config.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    max_age: maxAge,
    duplicate_window: nanos(duplicateWindowMs),
  };
}

/**
 * Creates each stream, or updates subjects, max age, duplicate window and replica count of an
 * existing one (JetStream re-replicates a live stream in place: a fleet moved from one server
 * to a cluster keeps its streams). Idempotent. Retention cannot be changed on a live JetStream
 * stream, so a mismatch throws.
 */
export async function ensureJetStreams(
  jsm: JetStreamManager,
  streams: readonly StreamConfig[],
  replicas: number,
  logger: BusLogger,
): Promise<void> {
  for (const config of streams) {
    const wanted = toJetStreamConfig(config, replicas);
    let existing: JetStreamConfig;
    try {
      existing = (await createWhenAnswered(() => jsm.streams.info(config.name))).config;
    } catch (err) {
      if (jetStreamErrorCode(err) !== JETSTREAM_ERROR_CODES.streamNotFound) throw err;
      await createWhenAnswered(() => jsm.streams.add(wanted));
      logger.info({ stream: config.name, replicas }, 'created JetStream stream');
      continue;
    }
    if (existing.retention !== wanted.retention) {
      throw new Error(
        `stream ${config.name} exists with retention ${existing.retention}, wanted ${wanted.retention}: ` +
          'JetStream cannot change retention in place; delete the stream to change it',
      );
    }
    const sameSubjects =
      existing.subjects.length === config.subjects.length && config.subjects.every((s) => existing.subjects.includes(s));
    // The server fills in a default duplicate window when asked for 0: only compare what was asked.
    const sameWindow = wanted.duplicate_window === 0 || existing.duplicate_window === wanted.duplicate_window;
    const sameReplicas = existing.num_replicas === replicas;
    if (sameSubjects && existing.max_age === wanted.max_age && sameWindow && sameReplicas) continue;
    await jsm.streams.update(config.name, {
      subjects: wanted.subjects,
      max_age: wanted.max_age,
      num_replicas: replicas,
      ...(wanted.duplicate_window ? { duplicate_window: wanted.duplicate_window } : {}),
    });
    if (sameReplicas) {
      logger.info({ stream: config.name }, 'updated JetStream stream');
      continue;
    }
    logger.info({ stream: config.name, replicas, previousReplicas: existing.num_replicas }, 'updated JetStream stream: replica count changed');
    await waitForReplication(jsm, config.name, replicas, logger);
  }
}
