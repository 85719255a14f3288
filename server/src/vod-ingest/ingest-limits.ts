/**
 * What one broadcast's ingest may cost: a hostile or broken source is refused or stopped with a
 * reason when it passes one of these, never allowed to fill the disk, the memory or the worker's time.
 */
export interface IngestLimits {
  /** Bytes of one playlist response. */
  readonly maxPlaylistBytes: number;
  /** Segments one playlist may list (counted before parsing). */
  readonly maxPlaylistSegments: number;
  /** Segments (archived or gaps) one broadcast may have in all. */
  readonly maxSegments: number;
  /** Bytes of one segment (or init section). */
  readonly maxSegmentBytes: number;
  /** Bytes of all of one broadcast's segments. */
  readonly maxArchiveBytes: number;
  /** Time cap on one playlist request, headers to last byte. */
  readonly playlistTimeoutMs: number;
  /** Time cap on one segment request, headers to last byte. */
  readonly segmentTimeoutMs: number;
  /** Redirects followed per request, each hop re-checked by the SSRF guard. */
  readonly maxRedirects: number;
  /** Tries per segment before it becomes a gap. */
  readonly segmentAttempts: number;
  /** The wait before the second try; doubled for each further one. */
  readonly retryDelayMs: number;
  /** Playlist loads in a row that may fail (transiently) before the source counts as gone. */
  readonly maxPlaylistFailures: number;
  /** Segments in a row that may end as gaps before the source counts as gone. */
  readonly maxConsecutiveGaps: number;
}

/**
 * Defaults sized for a long broadcast of 2-6 s segments: 24 h of 2 s segments, 8 GB in all, a
 * 64 MB segment, a 2 MB playlist (about 25,000 entries of an ffmpeg playlist).
 */
export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxPlaylistBytes: 2 * 1024 * 1024,
  maxPlaylistSegments: 20_000,
  maxSegments: 43_200,
  maxSegmentBytes: 64 * 1024 * 1024,
  maxArchiveBytes: 8 * 1024 * 1024 * 1024,
  playlistTimeoutMs: 10_000,
  segmentTimeoutMs: 60_000,
  maxRedirects: 5,
  segmentAttempts: 4,
  retryDelayMs: 500,
  maxPlaylistFailures: 8,
  maxConsecutiveGaps: 15,
};
