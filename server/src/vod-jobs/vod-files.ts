import { LADDER_FILES } from '../vod/index.js';
import { broadcastKeyPath } from './vod-job.js';

/** Where published replays are served from: `/vod/{publisher}/{slug}/{ulid}/{file}`. */
export const VOD_URL_PREFIX = '/vod';

/** Where a broadcast's replay lives in the media store: `vods/{publisher}/{slug}/{ulid}/`. */
export function vodOutputPrefix(canonicalId: string): string {
  return `vods/${broadcastKeyPath(canonicalId)}/`;
}

/** Where the capture side archives a broadcast (and `vod-playlist` jobs pull to): `vod-archives/{publisher}/{slug}/{ulid}/`. */
export function vodArchivePrefix(canonicalId: string): string {
  return `vod-archives/${broadcastKeyPath(canonicalId)}/`;
}

/** The public URLs of a replay, relative to the server's origin, as its record carries them. */
export interface VodReplayUrls {
  readonly master: string;
  readonly poster: string;
  readonly storyboard: string;
}

export function vodReplayUrls(canonicalId: string): VodReplayUrls {
  const base = `${VOD_URL_PREFIX}/${broadcastKeyPath(canonicalId)}`;
  return { master: `${base}/${LADDER_FILES.master}`, poster: `${base}/${LADDER_FILES.poster}`, storyboard: `${base}/${LADDER_FILES.storyboardVtt}` };
}

/** A file of a replay that `/vod/` may serve: its path inside the replay and its type. */
export interface VodFile {
  readonly relativePath: string;
  readonly contentType: string;
}

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const FIXED_FILES: ReadonlyMap<string, string> = new Map([
  [LADDER_FILES.master, PLAYLIST_TYPE],
  [LADDER_FILES.poster, 'image/jpeg'],
  [LADDER_FILES.storyboardVtt, 'text/vtt; charset=utf-8'],
]);
/** A rung (`720p`) or the shared audio rendition: the directories the ladder writes. */
const RENDITION = `(?:\\d{2,4}p|${LADDER_FILES.audioName})`;
const RENDITION_PLAYLIST = new RegExp(`^${RENDITION}/index\\.m3u8$`);
const RENDITION_INIT = new RegExp(`^${RENDITION}/init(?:_\\d{1,2})?\\.mp4$`);
const RENDITION_SEGMENT = new RegExp(`^${RENDITION}/segment-\\d{5,6}\\.m4s$`);
const STORYBOARD_SHEET = /^storyboard-\d{3,4}\.jpg$/;

/**
 * The replay file a request path (inside `/vod/{publisher}/{slug}/{ulid}/`) names, or undefined.
 * Only the names the ladder writes are accepted, compared on the raw path: no decoding, so `..`,
 * `%2e`, dotfiles, the completion marker and anything else never reach the store.
 */
export function vodFileFor(pathInReplay: string): VodFile | undefined {
  const fixed = FIXED_FILES.get(pathInReplay);
  if (fixed) return { relativePath: pathInReplay, contentType: fixed };
  if (RENDITION_PLAYLIST.test(pathInReplay)) return { relativePath: pathInReplay, contentType: PLAYLIST_TYPE };
  if (RENDITION_INIT.test(pathInReplay)) return { relativePath: pathInReplay, contentType: 'video/mp4' };
  if (RENDITION_SEGMENT.test(pathInReplay)) return { relativePath: pathInReplay, contentType: 'video/iso.segment' };
  if (STORYBOARD_SHEET.test(pathInReplay)) return { relativePath: pathInReplay, contentType: 'image/jpeg' };
  return undefined;
}
