/*
 * The parts of a replay's HLS playlists a replay clip needs (the ladder's master playlist and its
 * fMP4 media playlists), read by pure functions: which rung to cut from, and which of its media
 * segments a range of the replay's timeline touches. URLs resolve against the playlist's own URL;
 * only http(s) URLs are kept, so a playlist cannot send the clip's fetches anywhere else.
 */

/** A video rung of the master playlist. */
export interface ReplayVariant {
  readonly url: string;
  readonly width: number;
  readonly height: number;
  readonly bandwidth: number;
}

/** A master playlist: the video rungs, largest first, and the shared audio rendition when there is one. */
export interface ReplayMaster {
  readonly variants: readonly ReplayVariant[];
  readonly audioUrl: string | undefined;
}

/** A media segment, placed on the replay's timeline. */
export interface ReplaySegment {
  readonly url: string;
  readonly startMs: number;
  readonly durationMs: number;
}

/** A VOD media playlist: its init section (fMP4) and its segments in order. */
export interface ReplayMediaPlaylist {
  readonly initUrl: string | undefined;
  readonly segments: readonly ReplaySegment[];
}

/** What one rendition contributes to a clip: the segments touching the range and where the range lies in them. */
export interface ReplaySelection {
  readonly initUrl: string | undefined;
  readonly segments: readonly ReplaySegment[];
  /** The range's start from the first selected segment's start, ms (ffmpeg `-ss`). */
  readonly offsetMs: number;
  /** The range's length, clamped to the playlist, ms (ffmpeg `-t`). */
  readonly durationMs: number;
}

function httpUrl(value: string, base: string): string | undefined {
  try {
    const url = new URL(value, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function playlistLines(text: string): string[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== '#EXTM3U') throw new TypeError('not an HLS playlist: the first line is not #EXTM3U');
  return lines;
}

/** An attribute of an `#EXT-X-...:` tag line, quoted or not. */
function attribute(line: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|[:,])${name}=("([^"]*)"|[^,]*)`).exec(line);
  return match ? (match[2] ?? match[1]) : undefined;
}

/** Reads a master playlist at `base`: its video rungs (largest first) and its audio rendition. Throws a `TypeError` on text that is not a playlist. */
export function parseMasterPlaylist(text: string, base: string): ReplayMaster {
  const lines = playlistLines(text);
  const variants: ReplayVariant[] = [];
  let audioUrl: string | undefined;
  let pending: { width: number; height: number; bandwidth: number } | undefined;
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-MEDIA:') && attribute(line, 'TYPE') === 'AUDIO') {
      const uri = attribute(line, 'URI');
      if (uri && audioUrl === undefined) audioUrl = httpUrl(uri, base);
    } else if (line.startsWith('#EXT-X-STREAM-INF:')) {
      const [width, height] = (attribute(line, 'RESOLUTION') ?? '').split('x').map(Number);
      pending = { width: width ?? 0, height: height ?? 0, bandwidth: Number(attribute(line, 'BANDWIDTH') ?? 0) };
    } else if (line && !line.startsWith('#') && pending) {
      const url = httpUrl(line, base);
      if (url && pending.width > 0 && pending.height > 0) variants.push({ url, ...pending });
      pending = undefined;
    }
  }
  variants.sort((a, b) => b.height - a.height || b.bandwidth - a.bandwidth);
  return { variants, audioUrl };
}

/** Reads a VOD media playlist at `base`, placing each segment on the timeline by the `#EXTINF` before it. */
export function parseReplayMediaPlaylist(text: string, base: string): ReplayMediaPlaylist {
  const lines = playlistLines(text);
  const segments: ReplaySegment[] = [];
  let initUrl: string | undefined;
  let pendingMs: number | undefined;
  let atMs = 0;
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXTINF:')) {
      const seconds = Number(line.slice('#EXTINF:'.length).split(',')[0]);
      if (!Number.isFinite(seconds) || seconds < 0) throw new TypeError(`bad segment duration: ${line}`);
      pendingMs = seconds * 1000;
    } else if (line.startsWith('#EXT-X-MAP:')) {
      const uri = attribute(line, 'URI');
      initUrl = uri === undefined ? undefined : httpUrl(uri, base);
    } else if (line && !line.startsWith('#')) {
      if (pendingMs === undefined) throw new TypeError(`segment ${line} has no #EXTINF`);
      const url = httpUrl(line, base);
      if (!url) throw new TypeError(`segment ${line} is not an http(s) URL`);
      segments.push({ url, startMs: atMs, durationMs: pendingMs });
      atMs += pendingMs;
      pendingMs = undefined;
    }
  }
  return { initUrl, segments };
}

/**
 * The segments of `playlist` that overlap `[fromMs, toMs)` of the replay's timeline, and where
 * the range lies in them. Undefined when the range is empty or outside the playlist.
 */
export function selectReplaySegments(playlist: ReplayMediaPlaylist, fromMs: number, toMs: number): ReplaySelection | undefined {
  const last = playlist.segments.at(-1);
  if (!last || !Number.isFinite(fromMs) || !Number.isFinite(toMs)) return undefined;
  const from = Math.max(0, fromMs);
  const to = Math.min(toMs, last.startMs + last.durationMs);
  if (!(to > from)) return undefined;
  const segments = playlist.segments.filter((segment) => segment.startMs < to && segment.startMs + segment.durationMs > from);
  const first = segments[0];
  if (!first) return undefined;
  return { initUrl: playlist.initUrl, segments, offsetMs: from - first.startMs, durationMs: to - from };
}

/**
 * The rung a clip is cut from: the largest whose short side is at most `maxLines` (what an upload
 * may be without a re-encode), the smallest when every rung is larger.
 */
export function clipVariant(variants: readonly ReplayVariant[], maxLines: number): ReplayVariant | undefined {
  const fits = variants.filter((variant) => Math.min(variant.width, variant.height) <= maxLines);
  const pool = fits.length > 0 ? fits : variants;
  return [...pool].sort((a, b) => Math.min(b.width, b.height) - Math.min(a.width, a.height))[fits.length > 0 ? 0 : pool.length - 1];
}
