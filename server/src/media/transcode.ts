import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
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
  audioBitrate: '128k',
  audioSampleRate: 48_000,
  /** A keyframe every 2 s, so the HLS segmenter can cut on any 2 s boundary without re-encoding. */
  keyframeIntervalS: 2,
  /** Target HLS segment length (segments are cut at the next keyframe: 4 s here). */
  hlsSegmentS: 4,
  /** Poster frame position, as a share of the duration. */
  posterAt: 0.1,
  threads: 2,
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
 * Where the MP4 encode reads its video filtergraph from when `videoFilter` is given (a face blur
 * can outgrow the 128 KiB limit of one command-line argument). Written into the output directory
 * and removed right after the encode, before anything reads the directory.
 */
const VIDEO_FILTER_SCRIPT = '.video-filter.txt';

export interface TranscodeOptions {
  /** Limit for the main encode; the HLS and poster steps get a quarter of it each. Default 10 min. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Encode progress as a share 0..1 of the input duration (when known), else as seconds. */
  readonly onProgress?: (progress: { readonly seconds: number; readonly fraction?: number }) => void;
  /** Input duration (from the moderation probe): used for progress and the poster position. */
  readonly inputDurationS?: number;
  /** Bounded concurrency across transcodes: the whole job runs inside one slot. */
  readonly limiter?: JobLimiter;
  readonly binaries?: Partial<MediaBinaries>;
  /**
   * ffmpeg filters applied to every frame after the publishing scale (frames at the output size,
   * `yuv420p`), appended to that chain after a comma: the face blur (`faceBlurFilter`). The HLS
   * rendition and the poster are cut from the MP4, so they carry whatever this does.
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
 * stripped), a VOD HLS rendition segmented from that MP4 without re-encoding, and a JPEG poster.
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

  const { onProgress, inputDurationS } = options;
  const filterScriptPath = options.videoFilter === undefined ? undefined : join(outputDir, VIDEO_FILTER_SCRIPT);
  if (filterScriptPath) await writeFile(filterScriptPath, publishingVideoFilter(options.videoFilter));
  try {
    await runFfmpeg([...mp4EncodeArgs(input, filterScriptPath ? { videoFilterScript: filterScriptPath } : {}), mediaOutputArg(mp4Path)], {
      timeoutMs,
      ...common,
      ...(onProgress
        ? {
            onProgress: (seconds: number) =>
              onProgress(inputDurationS && inputDurationS > 0 ? { seconds, fraction: Math.min(1, seconds / inputDurationS) } : { seconds }),
          }
        : {}),
    });
  } finally {
    if (filterScriptPath) await rm(filterScriptPath, { force: true });
  }

  const probe = await probeMedia(mp4Path, common);
  const video = probe.streams.find((stream) => stream.kind === 'video');
  const durationS = probe.durationS ?? inputDurationS ?? 0;
  const posterAtS = durationS > 0 ? durationS * PUBLISHING_PROFILE.posterAt : 0;

  await Promise.all([
    runFfmpeg(hlsArgs(mp4Path, hlsDir, hlsPlaylistPath), { timeoutMs: timeoutMs / 4, ...common }),
    runFfmpeg(posterArgs(mp4Path, posterPath, posterAtS), { timeoutMs: timeoutMs / 4, ...common }),
  ]);

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
 * ffmpeg arguments up to (not including) the MP4 output path. The video filters are
 * `publishingVideoFilter()` inline, or read from `videoFilterScript` (a file holding a longer
 * chain built with `publishingVideoFilter(extra)`).
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
    '-c:a', 'aac',
    '-b:a', p.audioBitrate,
    '-ar', String(p.audioSampleRate),
    '-ac', '2',
    '-movflags', '+faststart',
    '-threads', String(p.threads),
    '-f', 'mp4',
  ];
}

function hlsArgs(mp4Path: string, hlsDir: string, playlistPath: string): string[] {
  return [
    '-y',
    '-v', 'error',
    ...mediaInputArgs(mp4Path),
    '-map', '0',
    '-c', 'copy',
    '-f', 'hls',
    '-hls_time', String(PUBLISHING_PROFILE.hlsSegmentS),
    '-hls_playlist_type', 'vod',
    '-hls_flags', 'independent_segments',
    '-hls_segment_type', 'mpegts',
    '-hls_segment_filename', join(hlsDir, PUBLISHED_FILES.hlsSegmentPattern),
    mediaOutputArg(playlistPath),
  ];
}

function posterArgs(mp4Path: string, posterPath: string, atS: number): string[] {
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
