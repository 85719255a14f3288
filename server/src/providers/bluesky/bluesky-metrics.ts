import { Counter, Gauge, type Registry } from 'prom-client';

/** The Bluesky provider's metric names, one table (to merge into `METRIC_NAMES`). */
export const BLUESKY_METRIC_NAMES = {
  frames: 'live_upload_bluesky_jetstream_frames_total',
  connections: 'live_upload_bluesky_jetstream_connections_total',
  cursor: 'live_upload_bluesky_jetstream_cursor_seconds',
  statusWrites: 'live_upload_bluesky_status_writes_total',
  reader: 'live_upload_bluesky_jetstream_reader',
} as const;

/** What happened to a Jetstream frame. */
export const JETSTREAM_FRAME_OUTCOMES = [
  'published',
  'duplicate',
  'oversize',
  'malformed',
  'invalid',
  'other_kind',
  'unlinked',
  'other_collection',
  'own_status',
  'publish_failed',
] as const;
export type JetstreamFrameOutcome = (typeof JETSTREAM_FRAME_OUTCOMES)[number];

export const JETSTREAM_CONNECTION_OUTCOMES = ['opened', 'failed', 'closed'] as const;
export type JetstreamConnectionOutcome = (typeof JETSTREAM_CONNECTION_OUTCOMES)[number];

export const STATUS_WRITE_ACTIONS = ['put', 'delete'] as const;
export type StatusWriteAction = (typeof STATUS_WRITE_ACTIONS)[number];
export const STATUS_WRITE_OUTCOMES = ['written', 'retry', 'failed', 'no_credentials'] as const;
export type StatusWriteOutcome = (typeof STATUS_WRITE_OUTCOMES)[number];

export interface BlueskyMetrics {
  readonly frames: Counter<'outcome'>;
  readonly connections: Counter<'outcome'>;
  /** The cursor (`time_us` of the last frame handled), in seconds. */
  readonly cursor: Gauge;
  readonly statusWrites: Counter<'action' | 'outcome'>;
  /** 1 while this process holds the Jetstream lease and reads Jetstream: across the fleet, the sum is 1. */
  readonly reader: Gauge;
}

/** Registers the Bluesky metrics on the app's registry. */
export function createBlueskyMetrics(registry: Registry): BlueskyMetrics {
  const registers = [registry];
  return {
    frames: new Counter({ name: BLUESKY_METRIC_NAMES.frames, help: 'Jetstream frames by outcome', labelNames: ['outcome'], registers }),
    connections: new Counter({ name: BLUESKY_METRIC_NAMES.connections, help: 'Jetstream connections by outcome', labelNames: ['outcome'], registers }),
    cursor: new Gauge({ name: BLUESKY_METRIC_NAMES.cursor, help: 'Jetstream cursor (time of the last frame handled), unix seconds', registers }),
    statusWrites: new Counter({
      name: BLUESKY_METRIC_NAMES.statusWrites,
      help: 'Bluesky status write-back attempts by action and outcome',
      labelNames: ['action', 'outcome'],
      registers,
    }),
    reader: new Gauge({ name: BLUESKY_METRIC_NAMES.reader, help: '1 while this process holds the Jetstream lease and reads Jetstream (one process of the fleet)', registers }),
  };
}
