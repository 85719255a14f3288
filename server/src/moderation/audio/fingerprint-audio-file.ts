import { isAbsolute } from 'node:path';
import { ACCEPTED_DEMUXERS, parseFfprobeOutput, runFfmpeg, runFfprobe, type MediaBinaries, type MediaProbe } from '../../media/index.js';
import { CHROMAPRINT_ALGORITHM, CHROMAPRINT_SAMPLE_RATE, SUB_FINGERPRINT_STEP_S, fingerprintDurationS, subFingerprintsOf } from './audio-fingerprint.js';

/**
 * Demuxers a reference file may be opened with: the video containers uploads may use, and the
 * plain audio files a rights holder has (MP3, WAV, FLAC, Ogg, ADTS AAC). None of them opens
 * another file or URL (no playlists, no concat scripts), which is why the list is closed.
 */
export const AUDIO_REFERENCE_DEMUXERS = [...ACCEPTED_DEMUXERS, 'mp3', 'wav', 'flac', 'ogg', 'aac'] as const;

/** What listening to a file gave. */
export type AudioFileFingerprint =
  | {
      readonly kind: 'fingerprinted';
      readonly frames: Uint32Array;
      /** Seconds of audio the fingerprint describes. */
      readonly durationS: number;
      /** The audio went on past `maxDurationS`: only its start was fingerprinted. */
      readonly atLimit: boolean;
    }
  /** The file has no audio stream. */
  | { readonly kind: 'no-audio' }
  /** An audio stream shorter than one sub-fingerprint's window (about 2.7 s), or silent to the decoder: nothing to match. */
  | { readonly kind: 'too-short' };

export interface FingerprintAudioFileOptions {
  /** At most this many seconds from the start are fingerprinted. */
  readonly maxDurationS: number;
  /** The file's probe when the caller has one (the moderation job does): which streams it has, how long it is. */
  readonly probe?: MediaProbe;
  /** Demuxers ffmpeg may open the file with; default the video upload ones. */
  readonly demuxers?: readonly string[];
  /** Default: 30 s plus 1 s per 20 s of audio to decode (chromaprint runs some 300x real time here). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly binaries?: Partial<MediaBinaries>;
}

/**
 * The Chromaprint fingerprint of a file's first audio stream (the one players pick by
 * default), by ffmpeg's `chromaprint` muxer: decoded, down-mixed to mono and resampled to
 * 11025 Hz by ffmpeg, at most `maxDurationS` of it, with a hard timeout and an output cap of
 * the sub-fingerprints that duration can give. Rejects with `MediaProcessError` when ffprobe or
 * ffmpeg cannot read the file.
 */
export async function fingerprintAudioFile(path: string, options: FingerprintAudioFileOptions): Promise<AudioFileFingerprint> {
  if (!(options.maxDurationS > 0)) throw new RangeError(`maxDurationS must be positive, got ${options.maxDurationS}`);
  const demuxers = options.demuxers ?? ACCEPTED_DEMUXERS;
  const input = inputArgs(path, demuxers);
  const tools = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.binaries ? { binaries: options.binaries } : {}),
  };
  const probe = options.probe ?? (await probeStreams(input, tools));
  if (!probe.streams.some((stream) => stream.kind === 'audio')) return { kind: 'no-audio' };

  const listenS = Math.min(options.maxDurationS, probe.durationS ?? options.maxDurationS);
  const maxFrames = Math.ceil(options.maxDurationS / SUB_FINGERPRINT_STEP_S) + 2;
  const { stdout } = await runFfmpeg(
    [
      '-v', 'error',
      ...input,
      '-map', '0:a:0',
      '-vn', '-sn', '-dn',
      '-t', String(options.maxDurationS),
      '-ac', '1',
      '-ar', String(CHROMAPRINT_SAMPLE_RATE),
      '-f', 'chromaprint',
      '-algorithm', String(CHROMAPRINT_ALGORITHM),
      '-fp_format', 'raw',
      'pipe:1',
    ],
    { timeoutMs: options.timeoutMs ?? 30_000 + Math.ceil(listenS * 50), maxStdoutBytes: maxFrames * 4, ...tools },
  );
  const frames = subFingerprintsOf(stdout);
  if (frames.length === 0) return { kind: 'too-short' };
  const durationS = fingerprintDurationS(frames.length);
  // Chromaprint's last sub-fingerprint ends up to a hop before the audio does.
  return { kind: 'fingerprinted', frames, durationS, atLimit: durationS + 2 * SUB_FINGERPRINT_STEP_S >= options.maxDurationS };
}

/** The same input options as `mediaInputArgs`, with the demuxer list given: only `file:`, only those demuxers. */
function inputArgs(path: string, demuxers: readonly string[]): string[] {
  if (!isAbsolute(path)) throw new TypeError(`media input path must be absolute, got ${JSON.stringify(path)}`);
  return ['-protocol_whitelist', 'file', '-format_whitelist', demuxers.join(','), '-i', `file:${path}`];
}

/** Streams and duration only (no packet count: nothing here judges truncation). */
async function probeStreams(input: readonly string[], tools: { signal?: AbortSignal; binaries?: Partial<MediaBinaries> }): Promise<MediaProbe> {
  const { stdout, stderrTail } = await runFfprobe(['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...input], {
    timeoutMs: 15_000,
    maxStdoutBytes: 1024 * 1024,
    ...tools,
  });
  return parseFfprobeOutput(JSON.parse(stdout.toString('utf8')) as unknown, stderrTail);
}
