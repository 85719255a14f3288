import { parse, setOptions, type types } from 'hls-parser';
import { INGEST_FAILURE_REASONS, IngestError } from './ingest-error.js';

/** One segment of a media playlist, its URL made absolute against the playlist's own (final) URL. */
export interface MediaSegmentRef {
  /** Its media sequence number (`EXT-X-MEDIA-SEQUENCE` + its position): the archive's identity for it. */
  readonly sequence: number;
  readonly url: string;
  readonly durationS: number;
  /** `EXT-X-DISCONTINUITY` before it: timestamps, codec or format may change here. */
  readonly discontinuity: boolean;
  readonly discontinuitySequence: number;
  /**
   * `EXT-X-PROGRAM-DATE-TIME`, ISO 8601: the segment's own tag, or the previous segment's date
   * plus its duration (RFC 8216 4.3.2.6), never carried across a discontinuity.
   */
  readonly programDateTime?: string;
  /** `EXT-X-MAP`: the fMP4 init section it needs. */
  readonly initUrl?: string;
  /** `EXT-X-GAP`: the source itself says there is no media here. */
  readonly gap: boolean;
}

export interface MediaPlaylist {
  readonly kind: 'media';
  readonly targetDurationS: number;
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
  /** `EXT-X-ENDLIST`: no segment will be added. */
  readonly endlist: boolean;
  readonly playlistType?: 'EVENT' | 'VOD';
  readonly segments: readonly MediaSegmentRef[];
}

export interface PlaylistVariant {
  readonly url: string;
  readonly bandwidth: number;
  readonly resolution?: { readonly width: number; readonly height: number };
  readonly codecs?: string;
}

export interface MasterPlaylist {
  readonly kind: 'master';
  readonly variants: readonly PlaylistVariant[];
}

/** Longest segment we accept, in target durations (a lying `EXTINF` of hours is refused). */
const MAX_SEGMENT_TARGET_DURATIONS = 4;
/** Media sequence numbers stay exact in a JS number. */
const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

/**
 * Parses a playlist with `hls-parser` (non-strict: real-world playlists bend the spec in harmless
 * ways) and checks what the ingest relies on: a target duration, sequence numbers, segments with
 * an http(s) URL and a finite duration no longer than a few target durations; no encryption and
 * no byte ranges (valid HLS we do not archive). Segments are counted before parsing, so a
 * playlist of 100,000 entries is refused without building 100,000 objects. Throws `IngestError`.
 */
export function parsePlaylist(text: string, playlistUrl: URL, limits: { readonly maxPlaylistSegments: number }): MediaPlaylist | MasterPlaylist {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (!body.startsWith('#EXTM3U')) {
    throw new IngestError(INGEST_FAILURE_REASONS.notAPlaylist, `${playlistUrl.href} is not an HLS playlist (it does not start with #EXTM3U)`);
  }
  const listed = countLines(body, '#EXTINF');
  if (listed > limits.maxPlaylistSegments) {
    throw new IngestError(INGEST_FAILURE_REASONS.tooManySegments, `${playlistUrl.href} lists ${listed} segments; at most ${limits.maxPlaylistSegments} are accepted`);
  }
  let parsed: types.Playlist;
  try {
    setOptions({ strictMode: false, silent: true });
    parsed = parse(body);
  } catch (error) {
    throw new IngestError(INGEST_FAILURE_REASONS.notAPlaylist, `${playlistUrl.href} is not a valid HLS playlist: ${(error as Error).message}`, { cause: error });
  }
  if (parsed.isMasterPlaylist) return masterPlaylist(parsed as types.MasterPlaylist, playlistUrl);
  return mediaPlaylist(parsed as types.MediaPlaylist, playlistUrl);
}

/** `parsePlaylist` where only a media playlist will do. */
export function parseMediaPlaylist(text: string, playlistUrl: URL, limits: { readonly maxPlaylistSegments: number }): MediaPlaylist {
  const playlist = parsePlaylist(text, playlistUrl, limits);
  if (playlist.kind === 'master') {
    throw new IngestError(INGEST_FAILURE_REASONS.masterPlaylist, `${playlistUrl.href} is a master playlist where a media playlist was expected`);
  }
  return playlist;
}

/**
 * The variant to archive from a master playlist: the highest `BANDWIDTH` (the ladder scales
 * down, never up), ties to the larger picture. Audio in a separate `EXT-X-MEDIA` rendition is
 * not followed (yet): a variant with muxed audio is what the ingest archives whole.
 */
export function pickVariant(master: MasterPlaylist): PlaylistVariant {
  const area = (variant: PlaylistVariant) => (variant.resolution ? variant.resolution.width * variant.resolution.height : 0);
  const [best] = [...master.variants].sort((a, b) => b.bandwidth - a.bandwidth || area(b) - area(a));
  if (!best) throw new IngestError(INGEST_FAILURE_REASONS.notAPlaylist, 'the master playlist lists no variant');
  return best;
}

function masterPlaylist(parsed: types.MasterPlaylist, playlistUrl: URL): MasterPlaylist {
  const variants = parsed.variants
    .filter((variant) => !variant.isIFrameOnly)
    .map((variant) => ({
      url: absoluteUrl(variant.uri, playlistUrl),
      bandwidth: Number.isFinite(variant.bandwidth) ? variant.bandwidth : 0,
      ...(variant.resolution ? { resolution: { width: variant.resolution.width, height: variant.resolution.height } } : {}),
      ...(variant.codecs ? { codecs: variant.codecs } : {}),
    }));
  return { kind: 'master', variants };
}

function mediaPlaylist(parsed: types.MediaPlaylist, playlistUrl: URL): MediaPlaylist {
  const where = playlistUrl.href;
  const targetDurationS = parsed.targetDuration;
  if (!Number.isFinite(targetDurationS) || targetDurationS <= 0) {
    throw new IngestError(INGEST_FAILURE_REASONS.notAPlaylist, `${where} has no valid EXT-X-TARGETDURATION`);
  }
  const mediaSequence = parsed.mediaSequenceBase ?? 0;
  const discontinuitySequence = parsed.discontinuitySequenceBase ?? 0;
  if (!isSequence(mediaSequence) || !isSequence(discontinuitySequence) || !isSequence(mediaSequence + parsed.segments.length)) {
    throw new IngestError(INGEST_FAILURE_REASONS.notAPlaylist, `${where} has an invalid media or discontinuity sequence`);
  }
  // Segment tags after the last URI (an `EXT-X-MAP` in a playlist with no segment yet) come back
  // from hls-parser as a segment without a URI: nothing to fetch, dropped. Elsewhere it is invalid.
  const listed = parsed.segments.at(-1)?.uri === '' ? parsed.segments.slice(0, -1) : parsed.segments;
  let carried: { atMs: number; durationS: number } | undefined;
  const segments = listed.map((segment, index): MediaSegmentRef => {
    const sequence = mediaSequence + index;
    if (segment.key && segment.key.method !== 'NONE') {
      throw new IngestError(INGEST_FAILURE_REASONS.unsupportedPlaylist, `${where}: segment ${sequence} is encrypted (${segment.key.method}); encrypted sources are not archived`);
    }
    if (!segment.uri) throw new IngestError(INGEST_FAILURE_REASONS.notAPlaylist, `${where}: segment ${sequence} has no URI`);
    if (segment.byterange) {
      throw new IngestError(INGEST_FAILURE_REASONS.unsupportedPlaylist, `${where}: segment ${sequence} is a byte range; byte-range sources are not archived`);
    }
    if (!Number.isFinite(segment.duration) || segment.duration < 0 || segment.duration > targetDurationS * MAX_SEGMENT_TARGET_DURATIONS) {
      throw new IngestError(INGEST_FAILURE_REASONS.notAPlaylist, `${where}: segment ${sequence} has an invalid duration (${segment.duration} s against a target of ${targetDurationS} s)`);
    }
    const explicitMs = segment.programDateTime instanceof Date ? segment.programDateTime.getTime() : Number.NaN;
    const atMs = !Number.isNaN(explicitMs) ? explicitMs : carried && !segment.discontinuity ? carried.atMs + carried.durationS * 1000 : undefined;
    carried = atMs === undefined ? undefined : { atMs, durationS: segment.duration };
    const programDateTime = atMs === undefined ? undefined : new Date(atMs).toISOString();
    return {
      sequence,
      url: absoluteUrl(segment.uri, playlistUrl),
      durationS: segment.duration,
      discontinuity: segment.discontinuity === true,
      discontinuitySequence: segment.discontinuitySequence ?? discontinuitySequence,
      ...(programDateTime ? { programDateTime } : {}),
      ...(segment.map?.uri ? { initUrl: absoluteUrl(segment.map.uri, playlistUrl) } : {}),
      gap: segment.gap === true,
    };
  });
  return {
    kind: 'media',
    targetDurationS,
    mediaSequence,
    discontinuitySequence,
    endlist: parsed.endlist,
    ...(parsed.playlistType ? { playlistType: parsed.playlistType } : {}),
    segments,
  };
}

function isSequence(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= MAX_SEQUENCE;
}

/** A URI of the playlist, absolute against the playlist's URL; only http(s) (no file:, data:). */
function absoluteUrl(uri: string, playlistUrl: URL): string {
  let url: URL;
  try {
    url = new URL(uri, playlistUrl);
  } catch {
    throw new IngestError(INGEST_FAILURE_REASONS.badUrl, `${playlistUrl.href} lists an invalid URI: ${JSON.stringify(uri.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new IngestError(INGEST_FAILURE_REASONS.badUrl, `${playlistUrl.href} lists a ${url.protocol} URI; only http and https are fetched`);
  }
  return url.href;
}

function countLines(text: string, prefix: string): number {
  let count = 0;
  for (let at = text.indexOf(prefix); at !== -1; at = text.indexOf(prefix, at + prefix.length)) {
    if (at === 0 || text[at - 1] === '\n' || text[at - 1] === '\r') count++;
  }
  return count;
}
