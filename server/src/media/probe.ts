import { z } from 'zod';
import { runFfprobe, type MediaBinaries } from './ffmpeg-runner.js';
import { mediaInputArgs } from './media-input.js';

export const STREAM_KINDS = ['video', 'audio', 'other'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

export interface MediaStream {
  readonly index: number;
  readonly kind: StreamKind;
  /** ffprobe `codec_name`, e.g. `h264`, `vp9`, `aac`; `unknown` when ffprobe could not name it. */
  readonly codec: string;
  readonly width?: number;
  readonly height?: number;
  /** Frames per second (`avg_frame_rate`, else `r_frame_rate`). */
  readonly frameRate?: number;
  readonly sampleRate?: number;
  readonly channels?: number;
  /** Frames the container's index declares (`nb_frames`; MP4 has it, Matroska usually not). */
  readonly declaredFrames?: number;
  /** Packets actually demuxed from the file (`-count_packets`): fewer than declared = truncated. */
  readonly readPackets?: number;
}

export interface MediaProbe {
  /** ffprobe `format_name`: the demuxer, e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `matroska,webm`. */
  readonly container: string;
  /** Duration the container declares, in seconds (undefined when it declares none). */
  readonly durationS?: number;
  readonly sizeBytes?: number;
  readonly bitRate?: number;
  readonly streams: readonly MediaStream[];
  /** Lines ffprobe wrote to stderr at `-v error` (e.g. `File ended prematurely`). */
  readonly diagnostics?: readonly string[];
}

export interface ProbeOptions {
  /** Default 15 s: `-count_packets` demuxes the whole file (no decoding). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly binaries?: Partial<MediaBinaries>;
}

/**
 * ffprobe numbers arrive as numbers or strings, and as `N/A` (or absent) when unknown.
 * Anything that is not a finite number becomes undefined.
 */
const probeNumber = z
  .union([z.number(), z.string()])
  .optional()
  .transform((value) => {
    if (value === undefined || value === 'N/A' || value === '') return undefined;
    const parsed = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  });

/** `30000/1001` -> 29.97; `0/0`, `N/A` -> undefined. */
const probeRational = z
  .string()
  .optional()
  .transform((value) => {
    if (!value) return undefined;
    const [numerator, denominator = '1'] = value.split('/');
    const rate = Number(numerator) / Number(denominator);
    return Number.isFinite(rate) && rate > 0 ? rate : undefined;
  });

const ffprobeStreamSchema = z.object({
  index: z.number().int().nonnegative(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: probeNumber,
  height: probeNumber,
  avg_frame_rate: probeRational,
  r_frame_rate: probeRational,
  sample_rate: probeNumber,
  channels: probeNumber,
  nb_frames: probeNumber,
  nb_read_packets: probeNumber,
  disposition: z.object({ attached_pic: probeNumber }).partial().optional(),
});

const ffprobeOutputSchema = z.object({
  streams: z.array(ffprobeStreamSchema).default([]),
  format: z.object({
    format_name: z.string(),
    duration: probeNumber,
    size: probeNumber,
    bit_rate: probeNumber,
  }),
});

type FfprobeStream = z.infer<typeof ffprobeStreamSchema>;

/** ffprobe arguments: JSON, container and streams, and a packet count per stream (demux only) to catch truncation. */
export function probeArgs(path: string): string[] {
  return [
    '-v', 'error',
    '-print_format', 'json',
    '-show_format',
    '-show_streams',
    '-count_packets',
    ...mediaInputArgs(path),
  ];
}

/**
 * Probes a file we created with ffprobe. Rejects with `MediaProcessError` when ffprobe cannot
 * read it (e.g. an MP4 cut before its `moov` atom), with a `ZodError` when the output is not the
 * expected shape.
 */
export async function probeMedia(path: string, options: ProbeOptions = {}): Promise<MediaProbe> {
  const { stdout, stderrTail } = await runFfprobe(probeArgs(path), {
    timeoutMs: options.timeoutMs ?? 15_000,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.binaries ? { binaries: options.binaries } : {}),
    maxStdoutBytes: 1024 * 1024,
  });
  return parseFfprobeOutput(JSON.parse(stdout.toString('utf8')) as unknown, stderrTail);
}

/** Parses ffprobe's JSON (`unknown`, from the process boundary) into a `MediaProbe`. */
export function parseFfprobeOutput(output: unknown, stderr = ''): MediaProbe {
  const parsed = ffprobeOutputSchema.parse(output);
  const diagnostics = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return {
    container: parsed.format.format_name,
    ...defined('durationS', parsed.format.duration),
    ...defined('sizeBytes', parsed.format.size),
    ...defined('bitRate', parsed.format.bit_rate),
    streams: parsed.streams.map(toMediaStream),
    ...(diagnostics.length > 0 ? { diagnostics } : {}),
  };
}

function toMediaStream(stream: FfprobeStream): MediaStream {
  const isCoverArt = stream.disposition?.attached_pic === 1;
  const kind: StreamKind =
    stream.codec_type === 'video' && !isCoverArt ? 'video' : stream.codec_type === 'audio' ? 'audio' : 'other';
  return {
    index: stream.index,
    kind,
    codec: stream.codec_name ?? 'unknown',
    ...defined('width', stream.width),
    ...defined('height', stream.height),
    ...(kind === 'video' ? defined('frameRate', stream.avg_frame_rate ?? stream.r_frame_rate) : {}),
    ...defined('sampleRate', stream.sample_rate),
    ...defined('channels', stream.channels),
    ...defined('declaredFrames', stream.nb_frames),
    ...defined('readPackets', stream.nb_read_packets),
  };
}

function defined<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
