import { spawn } from 'node:child_process';
import { DEFAULT_MEDIA_BINARIES, MediaProcessError, mediaInputArgs, type MediaBinaries } from '../../media/index.js';
import type { ModerationRules } from '../moderation-rules.js';

/** One decoded frame, small, as packed 8-bit RGB rows (top-left first). */
export interface SampledFrame {
  /** Presentation time in seconds, as ffmpeg's filters see it (`pts_time`, a negative one as 0): what a blur's `enable='between(t,…)'` uses. */
  readonly t: number;
  readonly width: number;
  readonly height: number;
  /** `width * height * 3` bytes. */
  readonly rgb: Uint8Array;
}

export interface FrameSamplingOptions {
  /** The rules' `sampling`: fixed rate, scene threshold, frame cap. */
  readonly sampling: ModerationRules['sampling'];
  /** The clip's duration (from the probe): the fixed rate is lowered so its frames alone fit under the cap. */
  readonly durationS?: number;
  /** The frame's shorter side after scaling; default 224 (what the nudity model takes). */
  readonly shortSidePx?: number;
  /** Whole decode; default 60 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly binaries?: Partial<MediaBinaries>;
}

export const DEFAULT_SAMPLE_SHORT_SIDE_PX = 224;

/** `… pts_time:12.5 … s:398x224 …` of ffmpeg's `showinfo`: the time and size of the frame written next. */
const SHOWINFO_LINE = /Parsed_showinfo.*\bpts_time:\s*(-?[0-9.]+(?:e-?[0-9]+)?)\b.*\bs:\s*(\d+)x(\d+)/;
const STDERR_TAIL_BYTES = 4096;

/**
 * The frames the vision checks look at, decoded by ONE ffmpeg run at a small size: the first
 * frame, then a frame at least every `1 / fps` seconds, plus every frame whose scene score
 * (ffmpeg `select`'s `scene`, 0..1, computed on the small frames) is above `scene_threshold`,
 * at most `max_frames` in all. When the duration is known the fixed rate is lowered to fit
 * under the cap, and a scene frame is kept only while the fixed frames still to come fit too,
 * so a clip full of cuts is still sampled to its end.
 *
 * Frames stream out of ffmpeg's stdout as raw RGB (each frame's time and size come from the
 * `showinfo` filter on stderr) and are yielded one by one: the clip is never in memory, only
 * the frame being read. Breaking out of the loop kills ffmpeg. A decode error or timeout throws
 * `MediaProcessError` after the frames read so far.
 */
export async function* sampleFrames(path: string, options: FrameSamplingOptions): AsyncGenerator<SampledFrame> {
  const { fps, scene_threshold: sceneThreshold, max_frames: maxFrames } = options.sampling;
  const durationS = options.durationS !== undefined && options.durationS > 0 ? options.durationS : undefined;
  const step = Math.max(1 / fps, durationS === undefined ? 0 : durationS / maxFrames);
  const shortSide = options.shortSidePx ?? DEFAULT_SAMPLE_SHORT_SIDE_PX;
  // Even sizes (-2) keep every scaler happy; the short side is exactly `shortSide`.
  const scale = `scale='if(gte(iw,ih),-2,${shortSide})':'if(gte(iw,ih),${shortSide},-2)':flags=area`;
  const select = `select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${step.toFixed(6)})+gt(scene\\,${sceneThreshold})'`;
  const binary = options.binaries?.ffmpeg ?? DEFAULT_MEDIA_BINARIES.ffmpeg;
  const child = spawn(
    binary,
    [
      '-nostdin', '-hide_banner', '-loglevel', 'info',
      ...mediaInputArgs(path),
      '-map', '0:v:0', '-an', '-sn', '-dn',
      '-vf', `${scale},${select},format=rgb24,showinfo`,
      '-fps_mode', 'passthrough',
      '-threads', '2',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24',
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true },
  );

  let failure: { kind: 'timeout' | 'aborted' | 'spawn'; cause?: unknown } | undefined;
  const kill = (kind: 'timeout' | 'aborted', cause?: unknown): void => {
    failure ??= { kind, cause };
    child.kill('SIGKILL');
  };
  const timer = setTimeout(() => kill('timeout'), options.timeoutMs ?? 60_000);
  const onAbort = (): void => kill('aborted', options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  child.once('error', (error) => {
    failure ??= { kind: 'spawn', cause: error };
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));

  // Frame headers from stderr, in order; a waiter is woken by each new header or the end of stderr.
  const headers: Array<{ t: number; width: number; height: number }> = [];
  let stderrEnded = false;
  let stderrTail = '';
  let pendingLine = '';
  let wake: (() => void) | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    pendingLine += chunk;
    const lines = pendingLine.split('\n');
    pendingLine = lines.pop() ?? '';
    for (const line of lines) {
      const header = SHOWINFO_LINE.exec(line);
      if (header) headers.push({ t: Math.max(0, Number(header[1])), width: Number(header[2]), height: Number(header[3]) });
      else stderrTail = (stderrTail + line + '\n').slice(-STDERR_TAIL_BYTES);
    }
    wake?.();
  });
  child.stderr.once('close', () => {
    stderrEnded = true;
    wake?.();
  });
  const nextHeader = async (): Promise<{ t: number; width: number; height: number } | undefined> => {
    while (headers.length === 0 && !stderrEnded) await new Promise<void>((resolve) => (wake = resolve));
    return headers.shift();
  };

  let kept = 0;
  let lastKeptT = Number.NEGATIVE_INFINITY;
  let buffered: Buffer = Buffer.alloc(0);
  let header: { t: number; width: number; height: number } | undefined;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length > 0) {
        header ??= await nextHeader();
        if (!header) throw new Error('ffmpeg wrote a frame without its showinfo line');
        const bytes = header.width * header.height * 3;
        if (buffered.length < bytes) break;
        const frame: SampledFrame = { ...header, rgb: new Uint8Array(buffered.subarray(0, bytes)) };
        buffered = buffered.subarray(bytes);
        header = undefined;
        if (!keep(frame.t)) continue;
        kept += 1;
        lastKeptT = frame.t;
        yield frame;
        if (kept >= maxFrames) return;
      }
    }
    const code = await closed;
    if (failure) throw new MediaProcessError({ tool: 'ffmpeg', kind: failure.kind, exitCode: code, stderrTail }, { cause: failure.cause });
    if (code !== 0) throw new MediaProcessError({ tool: 'ffmpeg', kind: 'exit', exitCode: code, stderrTail });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  /** A fixed-rate frame is always kept; a scene frame only while the fixed frames still to come fit under the cap. */
  function keep(t: number): boolean {
    if (t - lastKeptT >= step - 1e-6) return true;
    const fixedStillToCome = durationS === undefined ? 0 : Math.ceil(Math.max(0, durationS - t) / step);
    return kept + 1 + fixedStillToCome <= maxFrames;
  }
}
