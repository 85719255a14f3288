import { MAX_OUTPUT_LINES, type CutRange } from './ffmpeg-args.js';
import { clipVariant, parseMasterPlaylist, parseReplayMediaPlaylist, selectReplaySegments, type ReplaySelection } from './replay-playlists.js';

/** One rendition's bytes for a replay clip: its init section and the selected segments, as one file, and the cut in it. */
export interface ReplayClipInput {
  readonly bytes: Uint8Array;
  readonly cut: CutRange;
}

/** What a replay clip is cut from: the video rung's part, and the audio rendition's when the ladder has one. */
export interface ReplayClipSource {
  readonly video: ReplayClipInput;
  readonly audio: ReplayClipInput | undefined;
  /** The rung cut from (its picture height). */
  readonly height: number;
  /** Every URL fetched, in order: playlists, init sections, segments. */
  readonly fetched: readonly string[];
}

/**
 * The most segments one rendition may contribute to a clip. The ladder's 4 s segments make 30 for
 * the longest clip (120 s); a playlist claiming many tiny segments in the range is refused rather
 * than fetched.
 */
export const MAX_CLIP_SEGMENTS = 120;

/** A replay's files are served by our own server or a CDN in front of it: no cookies go along. */
async function fetchOk(url: string, fetched: string[], signal: AbortSignal | undefined): Promise<Response> {
  fetched.push(url);
  const response = await fetch(url, { credentials: 'omit', ...(signal ? { signal } : {}) });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return response;
}

async function rendition(playlistUrl: string, fromMs: number, toMs: number, fetched: string[], signal: AbortSignal | undefined): Promise<ReplayClipInput> {
  const playlist = parseReplayMediaPlaylist(await (await fetchOk(playlistUrl, fetched, signal)).text(), playlistUrl);
  const selection = selectReplaySegments(playlist, fromMs, toMs);
  if (!selection) throw new Error(`${playlistUrl}: the range ${fromMs}-${toMs} ms is outside the replay`);
  if (selection.segments.length > MAX_CLIP_SEGMENTS) throw new Error(`${playlistUrl}: ${selection.segments.length} segments in the range, more than ${MAX_CLIP_SEGMENTS}`);
  return { bytes: await concatenated(selection, fetched, signal), cut: { startMs: selection.offsetMs, durationMs: selection.durationMs } };
}

/** The init section and the selected segments, fetched one after the other (a replay's segments are a few hundred KB each). */
async function concatenated(selection: ReplaySelection, fetched: string[], signal: AbortSignal | undefined): Promise<Uint8Array> {
  const urls = [...(selection.initUrl ? [selection.initUrl] : []), ...selection.segments.map((segment) => segment.url)];
  const parts: Uint8Array[] = [];
  for (const url of urls) parts.push(new Uint8Array(await (await fetchOk(url, fetched, signal)).arrayBuffer()));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Fetches what a clip of `[fromMs, toMs)` of the replay at `masterUrl` needs, and nothing more:
 * the master playlist, one video rung's media playlist (the largest at most 720 lines: an upload
 * needs no re-encode then), its init section and only the segments that overlap the range; the
 * same of the audio rendition when the ladder has one (audio is encoded once, apart).
 */
export async function fetchReplayClipSource(masterUrl: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<ReplayClipSource> {
  const fetched: string[] = [];
  const master = parseMasterPlaylist(await (await fetchOk(masterUrl, fetched, signal)).text(), masterUrl);
  const variant = clipVariant(master.variants, MAX_OUTPUT_LINES);
  if (!variant) throw new Error(`${masterUrl}: the replay lists no video rendition`);
  const video = await rendition(variant.url, fromMs, toMs, fetched, signal);
  const audio = master.audioUrl ? await rendition(master.audioUrl, fromMs, toMs, fetched, signal) : undefined;
  return { video, audio, height: variant.height, fetched };
}
