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

export type ProgressListener = (fraction: number) => void;

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

  /** @param assetBase absolute URL ending in `/` under which `FFMPEG_ASSETS` are served */
  constructor(
    private readonly assetBase: string,
    multiThread: boolean = globalThis.crossOriginIsolated === true,
  ) {
    this.#multiThread = multiThread;
  }

  /**
   * Runs `job`; when the multi-thread core fails it (not a cancel), falls back to the
   * single-thread core for this and every later job. (@ffmpeg/core-mt 0.12.10 fails some
   * commands in Chromium with "Cannot read properties of undefined (reading 'startsWith')".)
   */
  async #withFallback<T>(job: () => Promise<T>): Promise<T> {
    try {
      return await job();
    } catch (error) {
      if (!this.#multiThread || error instanceof TranscodeCancelledError) throw error;
      this.#multiThread = false;
      this.cancel();
      return job();
    }
  }

  /** Which core a load uses. */
  get core(): 'core-mt' | 'core' {
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
    try {
      const code = await ffmpeg.exec(args);
      return { code, log: this.#log };
    } catch (error) {
      if (this.#ffmpeg !== generation) throw new TranscodeCancelledError();
      throw error;
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
      if (code !== 0) throw new Error(`ffmpeg exited with ${code}: ${log.slice(-3).join(' | ')}`);
      const output = await ffmpeg.readFile(outName);
      if (typeof output === 'string' || output.byteLength === 0) throw new Error('ffmpeg produced no output');
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
