import { join } from 'node:path';
import type { LadderPlan } from './ladder-plan.js';
import { ladderInputArgs } from './ladder-input.js';

/** File and directory names inside a ladder's output directory. */
export const LADDER_FILES = {
  master: 'master.m3u8',
  /** Each variant (and the audio rendition) in its own directory, named after it (`720p/`, `audio/`). */
  variantPlaylist: 'index.m3u8',
  segmentPattern: 'segment-%05d.m4s',
  /** ffmpeg names it `init_<variant>.mp4` when there are several variants; read the playlist's EXT-X-MAP. */
  init: 'init.mp4',
  audioName: 'audio',
  poster: 'poster.jpg',
  /** Sprite sheets of the storyboard, numbered from 1. */
  storyboardSheetPattern: 'storyboard-%03d.jpg',
  storyboardVtt: 'storyboard.vtt',
} as const;

/** The storyboard sheet file name for a 1-based sheet number, as ffmpeg's image2 muxer writes it. */
export function storyboardSheetName(sheet: number): string {
  return `storyboard-${String(sheet).padStart(3, '0')}.jpg`;
}

/**
 * libx264 settings on top of the `veryfast` preset, per rung (issue 21, bench/vod). Where a
 * 720p30 ladder's CPU goes (24 s source, CPU seconds): decoding the source 1.8, scaling to
 * 480p and 360p 1.2, audio 0.3, storyboard and poster under 0.3, and the three libx264 encodes
 * about 9 (720p), 4.6 (480p) and 2.9 (360p): the encoders are ~85% of the work, so one decode
 * instead of three only saves ~20%. Motion search is the cheap knob that keeps `veryfast`'s
 * lookahead and macroblock tree (what holds quality at a fixed bitrate):
 *
 * - the top rung: diamond instead of hexagon search, ~10% of its encode, -0.09 dB PSNR and
 *   -0.0001 SSIM against the source on the bench source (invisible);
 * - the lower rungs: also sub-pixel refinement 1 and no inter sub-partitions, ~35% of their
 *   encode, -0.4 dB PSNR and -0.0006 SSIM at 44 dB (the same as `superfast`'s loss, without
 *   dropping the macroblock tree). The same on the top rung would cost 0.8 dB: not done there.
 *
 * Applied to `veryfast` only, the preset it was measured on: a configured slower preset asks
 * for quality over speed and gets its own search settings.
 */
export const LADDER_X264_TUNING = {
  preset: 'veryfast',
  topRung: 'me=dia',
  lowerRungs: 'me=dia:subme=1:partitions=i8x8,i4x4',
} as const;

/** The `-x264-params` of rung `index` (0 is the top), or undefined to keep the preset's own. */
export function rungX264Params(preset: string, index: number): string | undefined {
  if (preset !== LADDER_X264_TUNING.preset) return undefined;
  return index === 0 ? LADDER_X264_TUNING.topRung : LADDER_X264_TUNING.lowerRungs;
}

export interface LadderArgsOptions {
  /** Demuxers the source may be opened with (see `ladderInputArgs`). */
  readonly inputFormats?: readonly string[];
  /** libx264 threads per rung; default: ffmpeg's choice. */
  readonly threads?: number;
}

/**
 * The one ffmpeg command of a ladder: the source is decoded once, `split` hands every frame to a
 * `scale` per rung, to the storyboard (`fps=1/N,scale,tile`) and to the poster (`select` at
 * its time, one frame only), each rung has its own libx264 encoder, and audio is encoded once into its own
 * rendition that every variant shares (`agroup`). Keyframes sit exactly every `segmentS`
 * seconds in every rung (forced by time, fixed GOP, no scene-cut keyframes), so the HLS muxer
 * cuts all rungs at the same instants. Output is fMP4 (CMAF) HLS, VOD playlists. Each rung's
 * motion search is tuned for its size (`LADDER_X264_TUNING`).
 *
 * ffmpeg's own master playlist (Debian's 5.1) has no AVERAGE-BANDWIDTH or FRAME-RATE and a
 * BANDWIDTH from the configured rates rather than the encoded bytes, so it is not asked for:
 * `master-playlist.ts` writes it from the measured output. Pure.
 */
export function ladderFfmpegArgs(plan: LadderPlan, input: string, outputDir: string, options: LadderArgsOptions = {}): string[] {
  const rungs = plan.rungs;
  const branches = rungs.length + 2;
  const head = plan.frameRateCap !== undefined ? `fps=${plan.frameRateCap},` : '';
  const sb = plan.storyboard;
  const graph = [
    `[0:v:0]${head}split=${branches}${rungs.map((_, i) => `[in${i}]`).join('')}[insb][inposter]`,
    ...rungs.map((rung, i) => `[in${i}]scale=${rung.width}:${rung.height},setsar=1,format=yuv420p[v${i}]`),
    `[insb]fps=1/${sb.intervalS},scale=${sb.tileWidth}:${sb.tileHeight},setsar=1,tile=${sb.columns}x${sb.rows}[storyboard]`,
    // Exactly one frame passes (the first at or after the poster time): frames after it are not
    // converted for an output that is already done.
    `[inposter]select=gte(t\\,${plan.poster.atS.toFixed(3)})*isnan(prev_selected_t),scale=${plan.poster.width}:${plan.poster.height},setsar=1[poster]`,
  ].join(';');

  const perRung = rungs.flatMap((rung, i) => {
    const x264Params = rungX264Params(plan.preset, i);
    return [
      `-b:v:${i}`, `${rung.videoBitrateKbps}k`,
      `-maxrate:v:${i}`, `${rung.maxrateKbps}k`,
      `-bufsize:v:${i}`, `${rung.bufsizeKbps}k`,
      ...(x264Params !== undefined ? [`-x264-params:v:${i}`, x264Params] : []),
    ];
  });
  const audio = plan.audio;
  const streamMap = [
    ...rungs.map((rung, i) => `v:${i},${audio ? 'agroup:audio,' : ''}name:${rung.name}`),
    ...(audio ? [`a:0,agroup:audio,name:${LADDER_FILES.audioName},default:yes`] : []),
  ].join(' ');

  return [
    '-y',
    '-v', 'error',
    ...ladderInputArgs(input, options.inputFormats),
    '-filter_complex', graph,
    // The HLS output: every rung, then the audio.
    ...rungs.flatMap((_, i) => ['-map', `[v${i}]`]),
    ...(audio ? ['-map', '0:a:0'] : []),
    '-map_metadata', '-1',
    '-map_chapters', '-1',
    '-c:v', 'libx264',
    '-preset', plan.preset,
    '-profile:v', 'high',
    ...perRung,
    '-g', String(plan.gop),
    '-keyint_min', String(plan.gop),
    '-sc_threshold', '0',
    '-force_key_frames', `expr:gte(t,n_forced*${plan.segmentS})`,
    ...(options.threads !== undefined ? ['-threads', String(options.threads)] : []),
    ...(audio ? ['-c:a', 'aac', '-profile:a', 'aac_low', '-b:a', `${audio.bitrateKbps}k`, '-ar', String(audio.sampleRate), '-ac', String(audio.channels)] : []),
    '-f', 'hls',
    '-hls_segment_type', 'fmp4',
    '-hls_playlist_type', 'vod',
    '-hls_time', String(plan.segmentS),
    '-hls_flags', 'independent_segments',
    '-hls_fmp4_init_filename', LADDER_FILES.init,
    '-hls_segment_filename', join(outputDir, '%v', LADDER_FILES.segmentPattern),
    '-var_stream_map', streamMap,
    join(outputDir, '%v', LADDER_FILES.variantPlaylist),
    // The storyboard sprite sheets.
    '-map', '[storyboard]',
    '-c:v', 'mjpeg',
    '-q:v', '5',
    '-f', 'image2',
    join(outputDir, LADDER_FILES.storyboardSheetPattern),
    // The poster: the first frame at or after its time.
    '-map', '[poster]',
    '-frames:v', '1',
    '-c:v', 'mjpeg',
    '-q:v', '3',
    '-f', 'image2',
    '-update', '1',
    join(outputDir, LADDER_FILES.poster),
  ];
}
