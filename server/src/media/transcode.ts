import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg, type MediaBinaries } from './ffmpeg-runner.js';
import type { JobLimiter } from './job-limiter.js';
import { mediaInputArgs, mediaOutputArg } from './media-input.js';
import { probeMedia } from './probe.js';

/** The published rendition: what `/media/` serves for an approved upload. */
export const PUBLISHING_PROFILE = {
  maxLongEdgePx: 1280,
  maxShortEdgePx: 720,
  /** x264 speed/quality trade-off; `veryfast` keeps a 2-core box well above realtime at 720p. */
  preset: 'veryfast',
  crf: 23,
  maxVideoBitrate: '4M',
  videoBufferSize: '8M',
  /**
   * Audio channel layouts the rendition may have: the source's own when it is one of them, else
   * the nearest (5.1 and other multichannel sources are downmixed to stereo). A mono source
   * stays mono: upmixing it to stereo doubled the AAC encoder's work (the AAC encoder runs on
   * ffmpeg's main thread, in the way of the video) for no audible difference.
   */
  audioChannelLayouts: ['mono', 'stereo'],
  /**
   * The audio bitrate the rendition never exceeds, in bits/s. The encode passes no `-b:a`: the
   * AAC encoder's own default follows the channel layout, 128 kb/s for stereo (this cap, as
   * before) and 69 kb/s for mono. A fixed 128k on a mono channel cost 3x the encode time of
   * the default for nothing 69 kb/s does not already carry (the transcode test checks the cap).
   */
  audioBitrateCap: 128_000,
  audioSampleRate: 48_000,
  /**
   * A keyframe every 2 s, so the HLS segmenter can cut on any 2 s boundary without re-encoding.
   * Measured on the bench clip (issue 26): these forced keyframes and the VBV cap above cost no
   * more x264 CPU than a free GOP without a cap (within the 3 % noise of a busy box).
   */
  keyframeIntervalS: 2,
  /** Target HLS segment length (segments are cut at the next keyframe: 4 s here). */
  hlsSegmentS: 4,
  /** Poster frame position, as a share of the duration. */
  posterAt: 0.1,
  /**
   * Encoder threads; 0 lets x264 pick (1.5x the cores: 3 frames in flight on 2 cores), as a bare
   * encode does. Fixed at 2, each frame thread waits more often on the rows of the frame it
   * references. Concurrency across transcodes is bounded by the job limiter, not here.
   */
  threads: 0,
} as const;

/** File names inside the output directory. */
export const PUBLISHED_FILES = {
  mp4: 'video.mp4',
  hlsDir: 'hls',
  hlsPlaylist: 'index.m3u8',
  hlsSegmentPattern: 'segment-%03d.ts',
  poster: 'poster.jpg',
} as const;

/**
 * Where the encode reads its video filtergraphs from when `videoFilter` is given (a face blur
 * can outgrow the 128 KiB limit of one command-line argument): one for the published video, one
 * for the poster. Written into the output directory and removed right after the encode, before
 * anything reads the directory.
 */
const VIDEO_FILTER_SCRIPT = '.video-filter.txt';
const POSTER_FILTER_SCRIPT = '.poster-filter.txt';

export interface TranscodeOptions {
  /** Limit for the encode (which writes the MP4, the HLS rendition and the poster). Default 10 min. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Encode progress as a share 0..1 of the input duration (when known), else as seconds. */
  readonly onProgress?: (progress: { readonly seconds: number; readonly fraction?: number }) => void;
  /** Input duration (from the moderation probe): used for progress and the poster position; probed when missing. */
  readonly inputDurationS?: number;
  /** Bounded concurrency across transcodes: the whole job runs inside one slot. */
  readonly limiter?: JobLimiter;
  readonly binaries?: Partial<MediaBinaries>;
  /**
   * ffmpeg filters applied to every frame after the publishing scale (frames at the output size,
   * `yuv420p`), appended to that chain after a comma: the face blur (`faceBlurFilter`). The MP4
   * and the HLS rendition share one encode of this chain, and the poster goes through it too.
   */
  readonly videoFilter?: string;
}

export interface PublishedMedia {
  readonly mp4Path: string;
  readonly hlsPlaylistPath: string;
  readonly hlsSegmentPaths: readonly string[];
  readonly posterPath: string;
  /** Measured on the produced MP4 with ffprobe. */
  readonly durationS: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Transcodes an approved upload into `outputDir` (created if missing): an H.264 High / AAC MP4
 * with `+faststart` (at most 1280x720, or 720x1280 portrait, aspect kept, even sizes, metadata
 * stripped), a VOD HLS rendition of the same encoded packets, and a JPEG poster.
 *
 * One ffmpeg run decodes and encodes once: the `tee` muxer writes the encoded packets both to
 * the MP4 and to the HLS segmenter, and the poster is a second output fed by the same decoder
 * (one frame at `posterAt` of the duration, through the same filter chain). Before this, the
 * MP4 was encoded first and then read again twice (an HLS remux and a poster decode), which
 * cost a quarter of a bare encode's speed.
 *
 * Publishing is the caller's job: write into a staging directory, then rename it under /media/.
 */
export async function transcodeForPublishing(input: string, outputDir: string, options: TranscodeOptions = {}): Promise<PublishedMedia> {
  const job = (): Promise<PublishedMedia> => transcode(input, outputDir, options);
  return options.limiter ? options.limiter.run(job) : job();
}

async function transcode(input: string, outputDir: string, options: TranscodeOptions): Promise<PublishedMedia> {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const common = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.binaries ? { binaries: options.binaries } : {}),
  };
  const mp4Path = join(outputDir, PUBLISHED_FILES.mp4);
  const hlsDir = join(outputDir, PUBLISHED_FILES.hlsDir);
  const hlsPlaylistPath = join(hlsDir, PUBLISHED_FILES.hlsPlaylist);
  const posterPath = join(outputDir, PUBLISHED_FILES.poster);
  await mkdir(hlsDir, { recursive: true });

  const { onProgress } = options;
  const inputDurationS = options.inputDurationS ?? (await probeMedia(input, common)).durationS;
  const posterAtS = inputDurationS && inputDurationS > 0 ? inputDurationS * PUBLISHING_PROFILE.posterAt : 0;
  const scripts =
    options.videoFilter === undefined
      ? undefined
      : { video: join(outputDir, VIDEO_FILTER_SCRIPT), poster: join(outputDir, POSTER_FILTER_SCRIPT) };
  if (scripts) {
    await writeFile(scripts.video, publishingVideoFilter(options.videoFilter));
    await writeFile(scripts.poster, posterVideoFilter(posterAtS, options.videoFilter));
  }
  try {
    await runFfmpeg(
      [
        ...mp4EncodeArgs(input, scripts ? { videoFilterScript: scripts.video } : {}),
        publishedOutputsTee(mp4Path, hlsDir, hlsPlaylistPath),
        ...posterOutputArgs(posterAtS, scripts ? { videoFilterScript: scripts.poster } : {}),
        mediaOutputArg(posterPath),
      ],
      {
        timeoutMs,
        ...common,
        ...(onProgress
          ? {
              onProgress: (seconds: number) =>
                onProgress(inputDurationS && inputDurationS > 0 ? { seconds, fraction: Math.min(1, seconds / inputDurationS) } : { seconds }),
            }
          : {}),
      },
    );
  } finally {
    if (scripts) await Promise.all([rm(scripts.video, { force: true }), rm(scripts.poster, { force: true })]);
  }

  const probe = await probeMedia(mp4Path, common);
  const video = probe.streams.find((stream) => stream.kind === 'video');
  const durationS = probe.durationS ?? inputDurationS ?? 0;
  // The input's duration can overstate its video (a longer audio track): no frame reached the
  // poster's time, so it is cut from the MP4 at the share of the duration it really has.
  if (!(await exists(posterPath))) await runFfmpeg(posterFromMp4Args(mp4Path, posterPath, durationS * PUBLISHING_PROFILE.posterAt), { timeoutMs: timeoutMs / 4, ...common });

  const hlsSegmentPaths = (await readdir(hlsDir))
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => join(hlsDir, name));

  return {
    mp4Path,
    hlsPlaylistPath,
    hlsSegmentPaths,
    posterPath,
    durationS,
    width: video?.width ?? 0,
    height: video?.height ?? 0,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}

/**
 * The publishing video filter chain: scale into the box (long edge <= 1280, short edge <= 720,
 * never upscaled, aspect kept, even sizes), square pixels, yuv420p; then `extra` if given.
 */
export function publishingVideoFilter(extra?: string): string {
  const p = PUBLISHING_PROFILE;
  const boxWidth = `if(gte(iw\\,ih)\\,min(${p.maxLongEdgePx}\\,iw)\\,min(${p.maxShortEdgePx}\\,iw))`;
  const boxHeight = `if(gte(iw\\,ih)\\,min(${p.maxShortEdgePx}\\,ih)\\,min(${p.maxLongEdgePx}\\,ih))`;
  const scaled = `scale=w='${boxWidth}':h='${boxHeight}':force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1,format=yuv420p`;
  return extra === undefined ? scaled : `${scaled},${extra}`;
}

/**
 * The poster's filter chain: the frames from `atS` on, the first of them only, then the
 * publishing chain (with `extra`: the same face blur as the video). Trimming first keeps the
 * scale (and blur) to that one frame; the frames keep their timestamps, so a blur keyed on time
 * blurs the poster where it blurs the video.
 */
export function posterVideoFilter(atS: number, extra?: string): string {
  return `trim=start=${atS.toFixed(3)},select='eq(n\\,0)',${publishingVideoFilter(extra)}`;
}

/**
 * ffmpeg arguments up to (not including) the published outputs (`publishedOutputsTee`): one
 * encode whose packets the `tee` muxer writes to the MP4 and to the HLS segmenter. The video
 * filters are `publishingVideoFilter()` inline, or read from `videoFilterScript` (a file holding
 * a longer chain built with `publishingVideoFilter(extra)`). The encoders write their headers
 * out of band (`+global_header`): the MP4 needs them there, and the HLS (MPEG-TS) muxer puts them
 * back in front of every keyframe.
 */
export function mp4EncodeArgs(input: string, options: { readonly videoFilterScript?: string } = {}): string[] {
  const p = PUBLISHING_PROFILE;
  return [
    '-y',
    '-v', 'error',
    ...mediaInputArgs(input),
    '-map', '0:v:0',
    '-map', '0:a:0?',
    '-map_metadata', '-1',
    '-map_chapters', '-1',
    '-sn', '-dn',
    ...(options.videoFilterScript === undefined ? ['-vf', publishingVideoFilter()] : ['-filter_script:v', options.videoFilterScript]),
    '-c:v', 'libx264',
    '-preset', p.preset,
    '-profile:v', 'high',
    '-pix_fmt', 'yuv420p',
    '-crf', String(p.crf),
    '-maxrate', p.maxVideoBitrate,
    '-bufsize', p.videoBufferSize,
    '-force_key_frames', `expr:gte(t,n_forced*${p.keyframeIntervalS})`,
    '-af', `aformat=channel_layouts=${p.audioChannelLayouts.join('|')}`,
    '-c:a', 'aac',
    '-ar', String(p.audioSampleRate),
    '-flags', '+global_header',
    '-threads', String(p.threads),
    '-f', 'tee',
  ];
}

/**
 * The `tee` output: the MP4 with `+faststart` (the muxer moves `moov` in front once the
 * encode ends: a second pass over the file, I/O only) and the VOD HLS rendition, MPEG-TS
 * segments cut at the keyframes every `hlsSegmentS`.
 */
export function publishedOutputsTee(mp4Path: string, hlsDir: string, playlistPath: string): string {
  const p = PUBLISHING_PROFILE;
  const hlsOptions = [
    'f=hls',
    `hls_time=${p.hlsSegmentS}`,
    'hls_playlist_type=vod',
    'hls_flags=independent_segments',
    'hls_segment_type=mpegts',
    `hls_segment_filename=${teeOptionValue(join(hlsDir, PUBLISHED_FILES.hlsSegmentPattern))}`,
  ];
  const slaves = [`[f=mp4:movflags=+faststart]${mediaOutputArg(mp4Path)}`, `[${hlsOptions.join(':')}]${mediaOutputArg(playlistPath)}`];
  return slaves.map(teeSlave).join('|');
}

/**
 * Escapes for ffmpeg's `av_get_token`, which the tee muxer runs twice over an option value
 * (once splitting the outputs on `|`, once splitting the options on `:` and `]`): a backslash
 * before each special character, here the ones that split options.
 */
function teeOptionValue(value: string): string {
  return value.replace(/[\\':\]]/g, '\\$&');
}

/** Escapes one tee output (options and file name) for the split on `|`. */
function teeSlave(slave: string): string {
  return slave.replace(/[\\'|]/g, '\\$&');
}

/** The poster output's options (the path follows): one JPEG frame from `posterVideoFilter`, fed by the encode's decoder. */
function posterOutputArgs(atS: number, options: { readonly videoFilterScript?: string }): string[] {
  return [
    '-map', '0:v:0',
    ...(options.videoFilterScript === undefined ? ['-vf', posterVideoFilter(atS)] : ['-filter_script:v', options.videoFilterScript]),
    '-frames:v', '1',
    '-q:v', '3',
    '-f', 'image2',
    '-c:v', 'mjpeg',
  ];
}

/** A poster cut from the published MP4 (which carries the face blur already). */
function posterFromMp4Args(mp4Path: string, posterPath: string, atS: number): string[] {
  return [
    '-y',
    '-v', 'error',
    '-ss', atS.toFixed(3),
    ...mediaInputArgs(mp4Path),
    '-map', '0:v:0',
    '-frames:v', '1',
    '-q:v', '3',
    '-f', 'image2',
    '-c:v', 'mjpeg',
    mediaOutputArg(posterPath),
  ];
}
