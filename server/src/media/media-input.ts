import { isAbsolute } from 'node:path';

/**
 * Demuxers ffmpeg/ffprobe may use to open an upload. Probing is by content, so without this an
 * HLS playlist or concat script saved as `clip.mp4` would be opened as such and make ffmpeg
 * fetch URLs or read other local files (SSRF / local file disclosure).
 */
export const ACCEPTED_DEMUXERS = ['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm'] as const;

/**
 * The input options for a media file we created: only the `file` protocol, only the accepted
 * demuxers, and the path as an explicit `file:` URL so a name can never be read as an option or
 * another protocol. `path` must be absolute (one of our quarantine or work paths).
 */
export function mediaInputArgs(path: string): string[] {
  if (!isAbsolute(path)) throw new TypeError(`media input path must be absolute, got ${JSON.stringify(path)}`);
  return ['-protocol_whitelist', 'file', '-format_whitelist', ACCEPTED_DEMUXERS.join(','), '-i', `file:${path}`];
}

/** An output path as an explicit `file:` URL (absolute paths only). */
export function mediaOutputArg(path: string): string {
  if (!isAbsolute(path)) throw new TypeError(`media output path must be absolute, got ${JSON.stringify(path)}`);
  return `file:${path}`;
}
