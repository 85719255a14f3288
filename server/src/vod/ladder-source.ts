import { z } from 'zod';
import { runFfprobe, type MediaBinaries } from '../media/index.js';
import { ladderInputArgs } from './ladder-input.js';

/**
 * What the ladder needs to know about a source, as measured by ffprobe. The general
 * `MediaProbe` (media/probe.ts) answers moderation's questions; the ladder also needs the
 * display rotation (phones record portrait as landscape plus a display matrix) and the pixel
 * aspect ratio, so it reads them here.
 */
export interface LadderSource {
  /** The first video stream; absent for audio-only sources. */
  readonly video?: {
    /** Coded size, as the decoder produces frames before rotation. */
    readonly width: number;
    readonly height: number;
    /** Display rotation in degrees from the display matrix or the legacy `rotate` tag (0 when none). */
    readonly rotationDeg: number;
    /** Sample (pixel) aspect ratio; 1 for square pixels or when unknown. */
    readonly sampleAspectRatio: number;
    /** Frames per second (`avg_frame_rate`, else `r_frame_rate`); absent when ffprobe cannot tell. */
    readonly frameRate?: number;
  };
  readonly hasAudio: boolean;
  /** Container duration in seconds; absent when the container declares none. */
  readonly durationS?: number;
}

export interface ProbeLadderSourceOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly binaries?: Partial<MediaBinaries>;
  /** Demuxers the input may be opened with (see `ladderInputArgs`). */
  readonly inputFormats?: readonly string[];
}

const finiteNumber = z
  .union([z.number(), z.string()])
  .optional()
  .transform((value) => {
    if (value === undefined || value === '' || value === 'N/A') return undefined;
    const parsed = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  });

/** `30000/1001` -> 29.97 and `16:9` -> 1.78; `0/0`, `0:1`, `N/A` -> undefined. */
const ratio = z
  .string()
  .optional()
  .transform((value) => {
    if (!value) return undefined;
    const [numerator, denominator = '1'] = value.split(/[/:]/);
    const result = Number(numerator) / Number(denominator);
    return Number.isFinite(result) && result > 0 ? result : undefined;
  });

const streamSchema = z.object({
  codec_type: z.string().optional(),
  width: finiteNumber,
  height: finiteNumber,
  avg_frame_rate: ratio,
  r_frame_rate: ratio,
  sample_aspect_ratio: ratio,
  tags: z.object({ rotate: finiteNumber }).partial().optional(),
  side_data_list: z.array(z.object({ side_data_type: z.string().optional(), rotation: finiteNumber })).optional(),
  disposition: z.object({ attached_pic: finiteNumber }).partial().optional(),
});

const outputSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z.object({ duration: finiteNumber }).partial().default({}),
});

/** Probes a source file for the ladder. Rejects with `MediaProcessError` when ffprobe cannot read it. */
export async function probeLadderSource(path: string, options: ProbeLadderSourceOptions = {}): Promise<LadderSource> {
  const { stdout } = await runFfprobe(['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...ladderInputArgs(path, options.inputFormats)], {
    timeoutMs: options.timeoutMs ?? 15_000,
    maxStdoutBytes: 1024 * 1024,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.binaries ? { binaries: options.binaries } : {}),
  });
  return parseLadderSource(JSON.parse(stdout.toString('utf8')) as unknown);
}

/** Parses ffprobe's JSON (`-show_format -show_streams`) into a `LadderSource`. Pure. */
export function parseLadderSource(output: unknown): LadderSource {
  const parsed = outputSchema.parse(output);
  const video = parsed.streams.find((stream) => stream.codec_type === 'video' && stream.disposition?.attached_pic !== 1);
  const hasAudio = parsed.streams.some((stream) => stream.codec_type === 'audio');
  const durationS = parsed.format.duration;
  const frameRate = video?.avg_frame_rate ?? video?.r_frame_rate;
  return {
    ...(video && video.width !== undefined && video.height !== undefined
      ? {
          video: {
            width: video.width,
            height: video.height,
            rotationDeg: rotationOf(video),
            sampleAspectRatio: video.sample_aspect_ratio ?? 1,
            ...(frameRate !== undefined ? { frameRate } : {}),
          },
        }
      : {}),
    hasAudio,
    ...(durationS !== undefined && durationS > 0 ? { durationS } : {}),
  };
}

function rotationOf(stream: z.infer<typeof streamSchema>): number {
  const matrix = stream.side_data_list?.find((entry) => entry.side_data_type === 'Display Matrix' && entry.rotation !== undefined);
  return matrix?.rotation ?? stream.tags?.rotate ?? 0;
}
