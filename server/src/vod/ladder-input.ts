import { ACCEPTED_DEMUXERS, mediaInputArgs } from '../media/index.js';

/**
 * Demuxers a ladder source may be opened with by default: the upload containers, plus MPEG-TS
 * because live HLS archives are usually TS segments joined into one file. Neither can make
 * ffmpeg open another file or URL (the `hls` and `concat` demuxers could, so a caller that
 * needs them passes them explicitly, for a playlist it wrote itself).
 */
export const LADDER_INPUT_FORMATS = [...ACCEPTED_DEMUXERS, 'mpegts'] as const;

/**
 * Demuxers for a local HLS archive (a media playlist of TS or fMP4 segments, as the live
 * archiver stores a broadcast). The `hls` demuxer opens every URI the playlist lists with the
 * `file` protocol, so this is only for playlists we wrote ourselves, never for one handed in.
 */
export const HLS_ARCHIVE_INPUT_FORMATS = ['hls', ...LADDER_INPUT_FORMATS] as const;

/**
 * Input options for a ladder source: only the `file` protocol, only `formats` as demuxers, the
 * path as an explicit absolute `file:` URL (see `mediaInputArgs`).
 */
export function ladderInputArgs(path: string, formats: readonly string[] = LADDER_INPUT_FORMATS): string[] {
  const args = mediaInputArgs(path);
  const whitelist = args.indexOf('-format_whitelist');
  args[whitelist + 1] = formats.join(',');
  return args;
}
