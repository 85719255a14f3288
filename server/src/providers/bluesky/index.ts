export type { BlueskyCredentials, BlueskyCredentialsLookup } from './bluesky-credentials.js';
export {
  BLUESKY_COLLECTIONS,
  BLUESKY_LIVE_STATUS,
  BLUESKY_STATUS_RKEY,
  WANTED_COLLECTIONS,
  jetstreamEventSchema,
  jetstreamCommitEventSchema,
  recordUri,
  type JetstreamEvent,
  type JetstreamCommitEvent,
} from './jetstream-event.js';
export { BLUESKY_RAW_MESSAGE_TYPE, blueskyMessageId, toBlueskyRawEvent } from './bluesky-raw-event.js';
export { blueskyEventAdapter } from './bluesky-event-adapter.js';
export {
  BLUESKY_METRIC_NAMES,
  JETSTREAM_FRAME_OUTCOMES,
  STATUS_WRITE_OUTCOMES,
  createBlueskyMetrics,
  type BlueskyMetrics,
  type JetstreamFrameOutcome,
  type StatusWriteOutcome,
} from './bluesky-metrics.js';
export { blueskyLinksDirectory, type BlueskyDidDirectory } from './bluesky-links-directory.js';
export { JetstreamCursorStore } from './jetstream-cursor-store.js';
export { JetstreamConsumer, JETSTREAM_DEFAULTS, type JetstreamConsumerOptions } from './jetstream-consumer.js';
export { STATUS_DURATION_MINUTES, blueskyStatusRecord, clampDurationMinutes, isOwnStatusRecord, landingPageUrl } from './status-record.js';
export { StatusWriter, STATUS_WRITER_DEFAULTS, type StatusWriterOptions } from './status-writer.js';
export { BlueskyProvider, BLUESKY_DEFAULTS, type BlueskyProviderOptions } from './bluesky-provider.js';
