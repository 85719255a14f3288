/**
 * The VOD ingest's fetch half (issue 21): HLS sources into an archive in an `ObjectStore`.
 *
 * A worker opens one `SegmentFetcher` per job (limits, clock, and the outbound webhooks' SSRF
 * policy: `allowPrivateHosts` from OUTBOUND_ALLOW_PRIVATE_HOSTS), opens the broadcast's
 * `ArchiveSink` at its prefix (which resumes one a crashed replica left `following`), and runs
 * either an `HlsFollower` (a live channel's playlist, until ENDLIST or `stop()` at offline) or
 * `pullVodPlaylist` (a finished VOD URL). Both resolve with an `IngestOutcome`: `ended` (usable),
 * or `failed` with a reason (delete the prefix). The ladder reads the result with `readArchive`.
 */
export { HlsFollower, type HlsFollowerEvents, type HlsFollowerOptions } from './hls-follower.js';
export { pullVodPlaylist, type VodPullOptions } from './vod-playlist-puller.js';
export { SegmentFetcher, type SegmentFetcherOptions, type SegmentFetchResult } from './segment-fetcher.js';
export { ArchiveSink, readArchive, ARCHIVE_KEYS, DEFAULT_ENTRIES_PER_PAGE, type ArchiveReader, type ArchiveStart } from './archive-sink.js';
export {
  ARCHIVE_STATES,
  GAP_REASONS,
  type ArchiveEntry,
  type ArchiveGapEntry,
  type ArchiveHead,
  type ArchiveSegmentEntry,
  type ArchiveState,
  type ArchiveTotals,
  type SourceRestart,
} from './archive-manifest.js';
export { MediaSequenceRestarts, type SequencedPlaylist } from './media-sequence-restart.js';
export { type IngestOutcome } from './playlist-archiver.js';
export { INGEST_FAILURE_REASONS, IngestError, TransientFetchError, type IngestFailureReason } from './ingest-error.js';
export { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest-limits.js';
export { scaledClock, systemClock, type IngestClock } from './ingest-clock.js';
export { parsePlaylist, parseMediaPlaylist, pickVariant, type MediaPlaylist, type MasterPlaylist, type MediaSegmentRef, type PlaylistVariant } from './media-playlist.js';
export { detectSegmentFormat, SEGMENT_FORMATS, type SegmentFormat } from './segment-format.js';
export { type SourcePolicy } from './guarded-get.js';
