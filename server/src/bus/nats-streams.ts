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

/** The JetStream settings a `StreamConfig` stands for (file storage, one replica). */
export function toJetStreamConfig(config: StreamConfig): Partial<JetStreamConfig> & { name: string } {
  const maxAge = nanos(config.maxAgeMs);
  // JetStream refuses a duplicate window longer than max age; 0 lets the server pick its default.
  const duplicateWindowMs = config.maxAgeMs > 0 ? Math.min(config.duplicateWindowMs, config.maxAgeMs) : config.duplicateWindowMs;
  return {
    name: config.name,
    subjects: [...config.subjects],
    retention: config.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    max_age: maxAge,
    duplicate_window: nanos(duplicateWindowMs),
  };
}

/**
 * Creates each stream, or updates subjects, max age and duplicate window of an existing one.
 * Idempotent. Retention cannot be changed on a live JetStream stream, so a mismatch throws.
 */
export async function ensureJetStreams(
  jsm: JetStreamManager,
  streams: readonly StreamConfig[],
  logger: BusLogger,
): Promise<void> {
  for (const config of streams) {
    const wanted = toJetStreamConfig(config);
    let existing: JetStreamConfig;
    try {
      existing = (await jsm.streams.info(config.name)).config;
    } catch (err) {
      if (jetStreamErrorCode(err) !== JETSTREAM_ERROR_CODES.streamNotFound) throw err;
      await jsm.streams.add(wanted);
      logger.info({ stream: config.name }, 'created JetStream stream');
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
    if (sameSubjects && existing.max_age === wanted.max_age && sameWindow) continue;
    await jsm.streams.update(config.name, {
      subjects: wanted.subjects,
      max_age: wanted.max_age,
      ...(wanted.duplicate_window ? { duplicate_window: wanted.duplicate_window } : {}),
    });
    logger.info({ stream: config.name }, 'updated JetStream stream');
  }
}
