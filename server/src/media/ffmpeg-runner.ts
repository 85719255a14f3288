import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { readFfmpegProgress } from './ffmpeg-progress.js';
import { MediaProcessError, type MediaFailureKind, type MediaTool } from './media-process-error.js';

/** Executable names (or absolute paths) of the media tools; resolved through PATH by default. */
export interface MediaBinaries {
  readonly ffmpeg: string;
  readonly ffprobe: string;
}

export const DEFAULT_MEDIA_BINARIES: MediaBinaries = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' };

export interface RunMediaOptions {
  /** Hard limit; the process is SIGKILLed when it is reached. */
  readonly timeoutMs: number;
  /** Aborting SIGKILLs the process. */
  readonly signal?: AbortSignal;
  /**
   * ffmpeg only: called with the output time reached, in seconds. The runner adds
   * `-progress pipe:3` and reads fd 3, so stdout stays free for data (e.g. raw frames).
   */
  readonly onProgress?: (seconds: number) => void;
  readonly binaries?: Partial<MediaBinaries>;
  /** stdout is collected up to this many bytes; more kills the process. Default 16 MiB. */
  readonly maxStdoutBytes?: number;
}

export interface MediaProcessResult {
  readonly stdout: Buffer;
  /** The last few KiB of stderr (warnings from `-v error` runs end up here). */
  readonly stderrTail: string;
}

const STDERR_TAIL_BYTES = 4096;
const DEFAULT_MAX_STDOUT_BYTES = 16 * 1024 * 1024;

/** Runs ffmpeg with `-nostdin -hide_banner` prepended to `args` (an argv array, never a shell string). */
export function runFfmpeg(args: readonly string[], options: RunMediaOptions): Promise<MediaProcessResult> {
  const progressArgs = options.onProgress ? ['-progress', 'pipe:3', '-stats_period', '0.5'] : [];
  return runMediaTool('ffmpeg', ['-nostdin', '-hide_banner', ...progressArgs, ...args], options);
}

/** Runs ffprobe with `-hide_banner` prepended to `args`; stdin is closed. */
export function runFfprobe(
  args: readonly string[],
  options: Omit<RunMediaOptions, 'onProgress'>,
): Promise<MediaProcessResult> {
  return runMediaTool('ffprobe', ['-hide_banner', ...args], options);
}

function runMediaTool(tool: MediaTool, args: readonly string[], options: RunMediaOptions): Promise<MediaProcessResult> {
  const binary = options.binaries?.[tool] ?? DEFAULT_MEDIA_BINARIES[tool];
  const maxStdoutBytes = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT_BYTES;
  const onProgress = tool === 'ffmpeg' ? options.onProgress : undefined;

  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new MediaProcessError({ tool, kind: 'aborted', exitCode: null, stderrTail: '' }, { cause: options.signal.reason }));
      return;
    }

    const child = spawn(binary, args, {
      stdio: onProgress ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });

    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail = Buffer.alloc(0);
    let failure: { kind: MediaFailureKind; cause?: unknown } | undefined;

    const kill = (kind: MediaFailureKind, cause?: unknown): void => {
      if (failure) return;
      failure = { kind, cause };
      child.kill('SIGKILL');
    };

    const timer = setTimeout(() => kill('timeout'), options.timeoutMs);
    const onAbort = (): void => kill('aborted', options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdoutBytes) {
        kill('output_too_large');
        return;
      }
      stdoutChunks.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = Buffer.concat([stderrTail, chunk]);
      if (stderrTail.length > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(stderrTail.length - STDERR_TAIL_BYTES);
    });
    if (onProgress) {
      readFfmpegProgress(child.stdio[3] as Readable | null, (key, value) => {
        if (key !== 'out_time_us') return;
        const micros = Number(value);
        if (Number.isFinite(micros) && micros >= 0) onProgress(micros / 1_000_000);
      });
    }

    child.once('error', (error) => {
      // Spawn failures (ENOENT) arrive here; 'close' still follows.
      if (!failure) failure = { kind: 'spawn', cause: error };
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const tail = stderrTail.toString('utf8');
      if (failure) {
        reject(new MediaProcessError({ tool, kind: failure.kind, exitCode, stderrTail: tail }, { cause: failure.cause }));
      } else if (exitCode !== 0) {
        reject(new MediaProcessError({ tool, kind: 'exit', exitCode, stderrTail: tail }));
      } else {
        resolve({ stdout: Buffer.concat(stdoutChunks), stderrTail: tail });
      }
    });
  });
}
