/*
 * The ffmpeg command lines of the browser pipeline, as argument arrays built by pure functions,
 * and the reading of ffmpeg's own stream report. File names are ones the pipeline chose.
 */

/** The longest side of the normalised output: 720p. */
export const MAX_OUTPUT_LINES = 720;

/** What ffmpeg reported about an input: container, codecs, picture size, duration. */
export interface MediaInfo {
  readonly container: string | undefined;
  readonly videoCodec: string | undefined;
  readonly audioCodec: string | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly durationS: number | undefined;
}

/**
 * Reads the `Input #0, mov,mp4,...` block ffmpeg logs for `-i file`: first video and first
 * audio stream, picture size, duration. Lines not understood are skipped.
 */
export function parseMediaInfo(log: readonly string[]): MediaInfo {
  let container: string | undefined;
  let videoCodec: string | undefined;
  let audioCodec: string | undefined;
  let width: number | undefined;
  let height: number | undefined;
  let durationS: number | undefined;
  for (const line of log) {
    const input = /^Input #0, ([^,]+(?:,[^,\s]+)*), from/.exec(line.trim());
    if (input) container ??= input[1];
    const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(line);
    if (duration) durationS ??= Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
    const video = /Stream #0:\d+.*?: Video: ([\w-]+)/.exec(line);
    if (video && videoCodec === undefined) {
      videoCodec = video[1];
      const size = /, (\d{2,5})x(\d{2,5})[,\s[]/.exec(line);
      if (size) [width, height] = [Number(size[1]), Number(size[2])];
    }
    const audio = /Stream #0:\d+.*?: Audio: ([\w-]+)/.exec(line);
    if (audio) audioCodec ??= audio[1];
  }
  return { container, videoCodec, audioCodec, width, height, durationS };
}

/** Already what we upload: MP4 with H.264 video, AAC audio (or none), at most 720 lines. */
export function isUploadReady(info: MediaInfo): boolean {
  return (
    (info.container?.split(',').includes('mp4') ?? false) &&
    info.videoCodec === 'h264' &&
    (info.audioCodec === undefined || info.audioCodec === 'aac') &&
    info.width !== undefined &&
    info.height !== undefined &&
    Math.min(info.width, info.height) <= MAX_OUTPUT_LINES
  );
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

/** A cut: where it starts in the input and how long it is. */
export interface CutRange {
  readonly startMs: number;
  readonly durationMs: number;
}

/** Stream copy into MP4 (no re-encode): the cut starts on the keyframe at or before `startMs`. */
export function remuxArgs(input: string, output: string, cut: CutRange): string[] {
  return ['-hide_banner', '-ss', seconds(cut.startMs), '-i', input, '-t', seconds(cut.durationMs), '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy', '-movflags', '+faststart', '-y', output];
}

/**
 * Stream copy of a replay clip into MP4: the video rung's part and, when the ladder has one, the
 * audio rendition's part (encoded apart, so a second input), each cut at its own offset into its
 * first segment (both start on the replay's timeline, so the cuts land on the same instant).
 */
export function replayRemuxArgs(video: { readonly name: string; readonly cut: CutRange }, audio: { readonly name: string; readonly cut: CutRange } | undefined, output: string): string[] {
  return [
    '-hide_banner',
    '-ss', seconds(video.cut.startMs), '-t', seconds(video.cut.durationMs), '-i', video.name,
    ...(audio ? ['-ss', seconds(audio.cut.startMs), '-t', seconds(audio.cut.durationMs), '-i', audio.name] : []),
    '-map', '0:v:0', ...(audio ? ['-map', '1:a:0'] : ['-map', '0:a:0?']),
    '-c', 'copy', '-movflags', '+faststart', '-y', output,
  ];
}

export interface EncodeOptions {
  /** A cut; the whole input when absent. Re-encoding cuts exactly, on any frame. */
  readonly cut?: CutRange;
  /** Aim at this many bytes (video bitrate from the duration); otherwise constant quality. */
  readonly targetBytes?: number;
  /** Media duration in ms, needed for `targetBytes`. */
  readonly durationMs?: number;
}

const AUDIO_BITS_PER_S = 96_000;

/** Video bitrate (bit/s) that lands a file of `targetBytes` over `durationMs`, after audio and 2% container overhead. */
export function targetVideoBitrate(targetBytes: number, durationMs: number): number {
  const totalBits = targetBytes * 8 * 0.98;
  return Math.max(100_000, Math.floor(totalBits / (durationMs / 1000) - AUDIO_BITS_PER_S));
}

/**
 * Re-encode to H.264/AAC MP4, at most 720 lines on the short side (never upscaled, even
 * dimensions), with exact cuts and an optional size target.
 */
export function encodeArgs(input: string, output: string, options: EncodeOptions = {}): string[] {
  const cut = options.cut;
  const scale = `scale='if(gte(iw,ih),-2,min(${MAX_OUTPUT_LINES},iw))':'if(gte(iw,ih),min(${MAX_OUTPUT_LINES},ih),-2)'`;
  const duration = cut?.durationMs ?? options.durationMs;
  const rate =
    options.targetBytes !== undefined && duration !== undefined && duration > 0
      ? (() => {
          const bits = targetVideoBitrate(options.targetBytes, duration);
          return ['-b:v', String(bits), '-maxrate', String(bits), '-bufsize', String(bits * 2)];
        })()
      : ['-crf', '23'];
  return [
    '-hide_banner',
    ...(cut ? ['-ss', seconds(cut.startMs)] : []),
    '-i', input,
    ...(cut ? ['-t', seconds(cut.durationMs)] : []),
    '-map', '0:v:0', '-map', '0:a:0?',
    '-vf', scale,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', ...rate,
    '-c:a', 'aac', '-b:a', String(AUDIO_BITS_PER_S),
    '-movflags', '+faststart', '-y', output,
  ];
}

/** ffmpeg's progress as a fraction 0..1 from its `time=` log, given the expected output length. */
export function progressFromLog(line: string, durationMs: number): number | undefined {
  const time = /time=(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(line);
  if (!time || !(durationMs > 0)) return undefined;
  const [, sign, hours, minutes, secs] = time;
  if (sign === '-') return 0; // before the first frame
  const ms = (Number(hours) * 3600 + Number(minutes) * 60 + Number(secs)) * 1000;
  return Math.min(1, Math.max(0, ms / durationMs));
}
