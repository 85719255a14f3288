/**
 * Server-side VOD capture (issue 21): while a channel is LIVE with its own HLS (`playback.hls`)
 * and a VOD policy other than `off`, one replica of the fleet follows the playlist into an archive
 * under `vod-archives/{publisher}/{slug}/{ulid}/` in the media store; at the canonical OFFLINE
 * (after the grace window) the archive is ended and one VOD job enqueued (`vod-jobs/`).
 */
export { VodCapture, VOD_CAPTURE_DEFAULTS, type VodCaptureEvents, type VodCaptureOptions, type CaptureSkipReason } from './vod-capture.js';
export { CAPTURE_STATES, captureKeyOf, captureLeaseKeyOf, captureRecordSchema, type CaptureRecord } from './capture-record.js';
export { FencedObjectStore, FencedWriteError } from './fenced-object-store.js';
export {
  TwitchArchiveLookup,
  TWITCH_ARCHIVE_LOOKUP_CONSUMER,
  TWITCH_ARCHIVE_LOOKUP_DEFAULTS,
  TWITCH_BROADCASTS_BUCKET,
  toTwitchArchive,
  type ArchiveVideoSource,
  type TwitchArchiveLookupOptions,
  type TwitchArchiveOutcome,
} from './twitch-archive-lookup.js';
export { recordVodCaptureMetrics, VOD_CAPTURE_EVENTS_METRIC, VOD_CAPTURE_FOLLOWING_METRIC } from './vod-capture-metrics.js';
