import { PUBLISHED_FILES } from '../media/index.js';

/** Where promoted media is served from. */
export const MEDIA_URL_PREFIX = '/media';

/** The public URLs of a published upload, as stored on its record and sent with `clip.published`. */
export interface PublishedMediaUrls {
  readonly mp4: string;
  readonly hls: string;
  readonly poster: string;
}

/** URLs of an upload's published files, relative to the server's origin. */
export function publishedMediaUrls(uploadId: string): PublishedMediaUrls {
  const base = `${MEDIA_URL_PREFIX}/${uploadId}`;
  return {
    mp4: `${base}/${PUBLISHED_FILES.mp4}`,
    hls: `${base}/${PUBLISHED_FILES.hlsDir}/${PUBLISHED_FILES.hlsPlaylist}`,
    poster: `${base}/${PUBLISHED_FILES.poster}`,
  };
}

/** A file `/media/` may serve: its path inside the upload's media directory and its type. */
export interface PublishedFile {
  readonly relativePath: string;
  readonly contentType: string;
}

const FIXED_FILES: ReadonlyMap<string, string> = new Map([
  [PUBLISHED_FILES.mp4, 'video/mp4'],
  [PUBLISHED_FILES.poster, 'image/jpeg'],
  [`${PUBLISHED_FILES.hlsDir}/${PUBLISHED_FILES.hlsPlaylist}`, 'application/vnd.apple.mpegurl'],
]);

/** `segment-%03d.ts` as ffmpeg numbers them (three digits, more past 999). */
const HLS_SEGMENT = new RegExp(`^${PUBLISHED_FILES.hlsDir}/segment-\\d{3,6}\\.ts$`);

/**
 * The published file a request path (inside `/media/{upload_id}/`) names, or undefined. Only the
 * names the transcode writes are accepted, compared on the raw path: no decoding, so `..`, `%2e`,
 * dotfiles and anything else can never reach the file system.
 */
export function publishedFileFor(pathInUpload: string): PublishedFile | undefined {
  const fixed = FIXED_FILES.get(pathInUpload);
  if (fixed) return { relativePath: pathInUpload, contentType: fixed };
  if (HLS_SEGMENT.test(pathInUpload)) return { relativePath: pathInUpload, contentType: 'video/mp2t' };
  return undefined;
}
