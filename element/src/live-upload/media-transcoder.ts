import type { FFmpeg } from '@ffmpeg/ffmpeg';
import { encodeArgs, parseMediaInfo, progressFromLog, remuxArgs, type CutRange, type EncodeOptions, type MediaInfo } from './ffmpeg-args.js';

/** Where the FFmpeg.wasm files are served, relative to the asset base (`{endpoint}/element/`). */
export const FFMPEG_ASSETS = {
  classWorker: 'ffmpeg/ffmpeg-worker.js',
  core: { js: 'ffmpeg/core/ffmpeg-core.js', wasm: 'ffmpeg/core/ffmpeg-core.wasm' },
  coreMt: { js: 'ffmpeg/core-mt/ffmpeg-core.js', wasm: 'ffmpeg/core-mt/ffmpeg-core.wasm', worker: 'ffmpeg/core-mt/ffmpeg-core.worker.js' },
} as const;

/** Thrown (as the rejection) when `cancel()` stopped a running job. */
export class TranscodeCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'TranscodeCancelledError';
  }
}

/** ffmpeg ran and exited non-zero: the input or the command, not the core, so no fallback. */
class FFmpegExitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FFmpegExitError';
  }
}

export type ProgressListener = (fraction: number) => void;

/** Which FFmpeg.wasm core ran (or will run) the jobs. */
export type TranscoderCore = 'core-mt' | 'core';

/** x264 threads on the multi-thread core: one per CPU, at most this many. */
const MAX_ENCODER_THREADS = 8;

/**
 * `args` adjusted for `@ffmpeg/core-mt` 0.12.10: when x264 runs more than one lookahead
 * thread (its default from 6 frame threads up, and with `sliced-threads`) a pthread traps with
 * "RuntimeError: function signature mismatch" (x264 hands thread jobs over as function
 * pointers cast to another signature, which WebAssembly's `call_indirect` rejects); the main
 * thread then unwinds with the string "unwind" and the core's `exec` wrapper, reading
 * `.message` of it, fails with "Cannot read properties of undefined (reading 'startsWith')".
 * So libx264 gets `lookahead-threads=1` and one frame thread per CPU (the speed-up). Args
 * without libx264 are returned as they are.
 */
export function multiThreadCoreArgs(args: readonly string[], threads: number): string[] {
  const codec = args.findIndex((arg, i) => (arg === '-c:v' || arg === '-vcodec') && args[i + 1] === 'libx264');
  if (codec < 0) return [...args];
  const count = String(Math.min(MAX_ENCODER_THREADS, Math.max(1, Math.floor(threads) || 1)));
  const params = args.indexOf('-x264-params');
  const adjusted = [...args];
  if (params >= 0 && params + 1 < adjusted.length) adjusted[params + 1] = `${adjusted[params + 1]}:lookahead-threads=1`;
  const extra = params >= 0 ? ['-threads', count] : ['-threads', count, '-x264-params', 'lookahead-threads=1'];
  adjusted.splice(codec + 2, 0, ...extra);
  return adjusted;
}

/** A same-origin blob: URL with a cross-origin script's text, so workers may start from it. */
async function scriptBlobUrl(url: string): Promise<string> {
  const response = await fetch(url, { credentials: 'omit' });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return URL.createObjectURL(new Blob([await response.arrayBuffer()], { type: 'text/javascript' }));
}

/**
 * FFmpeg.wasm in its worker, loaded from `assetBase` (our own origin, never a CDN): the
 * multi-thread core when the page is cross-origin isolated, the single-thread core otherwise.
 * One job at a time. `cancel()` terminates the worker; the next job loads a fresh one.
 */
export class MediaTranscoder {
  #ffmpeg: Promise<FFmpeg> | undefined;
  #log: string[] = [];
  #progress: ((line: string) => void) | undefined;
  #running = 0;

  #multiThread: boolean;
  /** The core the current worker runs, set when its load starts. */
  #loadedCore: TranscoderCore | undefined;
  #warnedFallback = false;

  /** @param assetBase absolute URL ending in `/` under which `FFMPEG_ASSETS` are served */
  constructor(
    private readonly assetBase: string,
    multiThread: boolean = globalThis.crossOriginIsolated === true,
  ) {
    this.#multiThread = multiThread;
  }

  /**
   * Runs `job`; when the multi-thread core fails it (not a cancel, nor ffmpeg exiting non-zero
   * on a bad input), warns once and falls back
   * to the single-thread core for this and every later job, so an unknown core-mt failure
   * costs time, not the upload. `core` then says `core`.
   */
  async #withFallback<T>(job: () => Promise<T>): Promise<T> {
    try {
      return await job();
    } catch (error) {
      if (!this.#multiThread || error instanceof TranscodeCancelledError || error instanceof FFmpegExitError) throw error;
      this.#multiThread = false;
      this.cancel();
      if (!this.#warnedFallback) {
        this.#warnedFallback = true;
        console.warn('live-upload: the multi-thread FFmpeg.wasm core failed; using the single-thread core from now on', error);
      }
      return job();
    }
  }

  /** Which core the jobs run on: `core-mt` until (unless) it fails and the transcoder falls back to `core`. */
  get core(): TranscoderCore {
    return this.#multiThread ? 'core-mt' : 'core';
  }

  #load(): Promise<FFmpeg> {
    this.#ffmpeg ??= (async () => {
      const { FFmpeg } = await import('@ffmpeg/ffmpeg');
      const url = (path: string) => new URL(path, this.assetBase).href;
      const ffmpeg = new FFmpeg();
      ffmpeg.on('log', ({ message }) => {
        this.#log.push(message);
        this.#progress?.(message);
      });
      this.#loadedCore = this.core;
      const classWorkerURL = await scriptBlobUrl(url(FFMPEG_ASSETS.classWorker));
      const files = this.#multiThread
        ? {
            coreURL: await scriptBlobUrl(url(FFMPEG_ASSETS.coreMt.js)),
            wasmURL: url(FFMPEG_ASSETS.coreMt.wasm),
            workerURL: await scriptBlobUrl(url(FFMPEG_ASSETS.coreMt.worker)),
          }
        : { coreURL: await scriptBlobUrl(url(FFMPEG_ASSETS.core.js)), wasmURL: url(FFMPEG_ASSETS.core.wasm) };
      await ffmpeg.load({ classWorkerURL, ...files });
      return ffmpeg;
    })();
    this.#ffmpeg.catch(() => (this.#ffmpeg = undefined));
    return this.#ffmpeg;
  }

  /** Starts loading the core now (it is ~30 MB), so the first job does not wait for it. */
  preload(): Promise<unknown> {
    return this.#load();
  }

  async #exec(args: string[], onLine?: (line: string) => void): Promise<{ code: number; log: string[] }> {
    const ffmpeg = await this.#load();
    const generation = this.#ffmpeg;
    this.#log = [];
    this.#progress = onLine;
    this.#running++;
    const core = this.#loadedCore;
    try {
      const code = await ffmpeg.exec(core === 'core-mt' ? multiThreadCoreArgs(args, navigator.hardwareConcurrency) : args);
      return { code, log: this.#log };
    } catch (error) {
      if (this.#ffmpeg !== generation) throw new TranscodeCancelledError();
      // The core's own message is often a symptom (see multiThreadCoreArgs); the log says why.
      throw new Error(`ffmpeg (${core}) failed: ${error instanceof Error ? error.message : String(error)}; log: ${this.#log.slice(-3).join(' | ')}`, { cause: error });
    } finally {
      this.#running--;
      this.#progress = undefined;
    }
  }

  async #run(input: Uint8Array, args: (inName: string, outName: string) => string[], durationMs: number, onProgress?: ProgressListener): Promise<Uint8Array> {
    const ffmpeg = await this.#load();
    const job = crypto.randomUUID().slice(0, 8);
    const inName = `in-${job}`;
    const outName = `out-${job}.mp4`;
    await ffmpeg.writeFile(inName, input.slice());
    try {
      const { code, log } = await this.#exec(args(inName, outName), (line) => {
        const fraction = progressFromLog(line, durationMs);
        if (fraction !== undefined) onProgress?.(fraction);
      });
      if (code !== 0) throw new FFmpegExitError(`ffmpeg exited with ${code}: ${log.slice(-3).join(' | ')}`);
      const output = await ffmpeg.readFile(outName);
      if (typeof output === 'string' || output.byteLength === 0) throw new FFmpegExitError('ffmpeg produced no output');
      onProgress?.(1);
      return output;
    } finally {
      if (this.#ffmpeg) {
        await ffmpeg.deleteFile(inName).catch(() => {});
        await ffmpeg.deleteFile(outName).catch(() => {});
      }
    }
  }

  /** What ffmpeg reads from `input`: container, codecs, size, duration. */
  probe(input: Uint8Array): Promise<MediaInfo> {
    return this.#withFallback(() => this.#probe(input));
  }

  async #probe(input: Uint8Array): Promise<MediaInfo> {
    const ffmpeg = await this.#load();
    const name = `probe-${crypto.randomUUID().slice(0, 8)}`;
    await ffmpeg.writeFile(name, input.slice());
    try {
      const { log } = await this.#exec(['-hide_banner', '-i', name]); // no output: exits 1 after the report
      return parseMediaInfo(log);
    } finally {
      await ffmpeg.deleteFile(name).catch(() => {});
    }
  }

  /** Stream copy of `cut` into MP4: no re-encode, starts on a keyframe. */
  remux(input: Uint8Array, cut: CutRange, onProgress?: ProgressListener): Promise<Uint8Array> {
    return this.#withFallback(() => this.#run(input, (i, o) => remuxArgs(i, o, cut), cut.durationMs, onProgress));
  }

  /** Re-encode to H.264/AAC MP4 at most 720p: exact cuts, size targets, normalisation. */
  encode(input: Uint8Array, options: EncodeOptions & { durationMs: number }, onProgress?: ProgressListener): Promise<Uint8Array> {
    return this.#withFallback(() => this.#run(input, (i, o) => encodeArgs(i, o, options), options.cut?.durationMs ?? options.durationMs, onProgress));
  }

  /** Stops the running job (its promise rejects with `TranscodeCancelledError`) and frees the worker. */
  cancel(): void {
    const loading = this.#ffmpeg;
    if (!loading) return;
    this.#ffmpeg = undefined;
    void loading.then((ffmpeg) => ffmpeg.terminate()).catch(() => {});
  }

  get busy(): boolean {
    return this.#running > 0;
  }
}
