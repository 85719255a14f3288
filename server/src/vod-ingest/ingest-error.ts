/**
 * Why an HLS ingest refused or stopped a source, one table. Each is final for the broadcast: the
 * archive manifest says `failed` with the reason and the caller may delete the prefix. Transient
 * trouble (a 404, a 5xx, a reset connection) is not here: it is retried, then recorded as a gap.
 */
export const INGEST_FAILURE_REASONS = {
  /** The body is not an HLS playlist (no `#EXTM3U`, HTML, garbage) or lacks what we need. */
  notAPlaylist: 'not_a_playlist',
  /** A master playlist where a media playlist must be (a variant that is itself a master). */
  masterPlaylist: 'master_playlist',
  /** A VOD pull was handed a playlist that is still live (no `EXT-X-ENDLIST`). */
  notAVod: 'not_a_vod',
  /** Encrypted segments, byte ranges: valid HLS we do not archive. */
  unsupportedPlaylist: 'unsupported_playlist',
  playlistTooLarge: 'playlist_too_large',
  /** One playlist lists more segments than `maxPlaylistSegments`, or the broadcast passed `maxSegments`. */
  tooManySegments: 'too_many_segments',
  /** The archive passed `maxArchiveBytes`. */
  archiveTooLarge: 'archive_too_large',
  /** A URL that is not absolute http(s), or carries credentials. */
  badUrl: 'bad_url',
  /** The host is (or resolves to) a private, loopback, link-local… address that is not allowed. */
  refusedAddress: 'refused_address',
  tooManyRedirects: 'too_many_redirects',
  /** A segment passed `maxSegmentBytes` (a body that never ends). */
  segmentTooLarge: 'segment_too_large',
  /** A segment (or playlist) did not arrive within its time cap (a body that trickles forever). */
  timeout: 'timeout',
  /** A segment's first bytes are not MPEG-TS, fragmented MP4 or packed audio (an HTML page, say). */
  notMedia: 'not_media',
  /** The playlist or too many segments in a row stayed unavailable through every retry. */
  sourceUnavailable: 'source_unavailable',
} as const;
export type IngestFailureReason = (typeof INGEST_FAILURE_REASONS)[keyof typeof INGEST_FAILURE_REASONS];

/** A source refused or stopped for good, with the reason the manifest records. */
export class IngestError extends Error {
  constructor(
    readonly reason: IngestFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IngestError';
  }
}

/** A fetch that may work if tried again: an HTTP error status, a dropped connection, DNS. */
export class TransientFetchError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the origin answered one. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransientFetchError';
  }
}
