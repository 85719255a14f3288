import { encodeArgs, parseMediaInfo, progressFromLog, remuxArgs, replayRemuxArgs, type CutRange, type EncodeOptions, type MediaInfo } from './ffmpeg-args.js';
import { FFMPEG_CORE_DIRS } from './ffmpeg-core-dirs.js';
import { encoderThreads, pthreadPoolSize, PTHREAD_POOL_PARAM } from './ffmpeg-thread-pool.js';
import { FFmpegWorkerClient, FFmpegWorkerError, type FFmpegCoreUrls } from './ffmpeg-worker-client.js';

export { FFmpegWorkerError };

/**
 * Where the FFmpeg.wasm files are served, relative to the asset base (`{endpoint}/element/`):
 * the cores from directories named by version and content (`FFMPEG_CORE_DIRS`), cached for a year.
 */
export const FFMPEG_ASSETS = {
  classWorker: 'ffmpeg/ffmpeg-worker.js',
  core: { js: `${FFMPEG_CORE_DIRS.core}ffmpeg-core.js`, wasm: `${FFMPEG_CORE_DIRS.core}ffmpeg-core.wasm` },
  coreMt: { js: `${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.js`, wasm: `${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.wasm`, worker: `${FFMPEG_CORE_DIRS.coreMt}ffmpeg-core.worker.js` },
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

/**
 * `args` adjusted for `@ffmpeg/core-mt` 0.12.10: when x264 runs more than one lookahead
 * thread (its default from 6 frame threads up, and with `sliced-threads`) a pthread traps with
 * "RuntimeError: function signature mismatch" (x264 hands thread jobs over as function
 * pointers cast to another signature, which WebAssembly's `call_indirect` rejects); the main
 * thread then unwinds with the string "unwind" and the core's `exec` wrapper, reading
 * `.message` of it, fails with "Cannot read properties of undefined (reading 'startsWith')".
 * So libx264 gets `lookahead-threads=1` and one frame thread per CPU (`encoderThreads`: the
 * speed-up). Args without libx264 are returned as they are.
 */
export function multiThreadCoreArgs(args: readonly string[], threads: number): string[] {
  const codec = args.findIndex((arg, i) => (arg === '-c:v' || arg === '-vcodec') && args[i + 1] === 'libx264');
  if (codec < 0) return [...args];
  const count = String(encoderThreads(threads));
  const params = args.indexOf('-x264-params');
  const adjusted = [...args];
  if (params >= 0 && params + 1 < adjusted.length) adjusted[params + 1] = `${adjusted[params + 1]}:lookahead-threads=1`;
  const extra = params >= 0 ? ['-threads', count] : ['-threads', count, '-x264-params', 'lookahead-threads=1'];
  adjusted.splice(codec + 2, 0, ...extra);
  return adjusted;
}

/**
 * The multi-thread core's URL with its pthread pool sized for this machine's CPUs
 * (`PTHREAD_POOL_PARAM`, `pthreadPoolSize`), instead of the fixed 32 workers the core would start.
 */
export function multiThreadCoreUrl(coreUrl: string, hardwareConcurrency: number): string {
  const url = new URL(coreUrl);
  url.searchParams.set(PTHREAD_POOL_PARAM, String(pthreadPoolSize(hardwareConcurrency)));
  return url.href;
}

/**
 * Where the FFmpeg worker starts from. A worker's script must be on the page's own origin, so
 * when the assets are (the element's own pages; a site that serves or proxies `/element/ffmpeg/`
 * and points `assets` at it) the worker starts from its real URL: nothing for a CSP to allow
 * but `worker-src` of that origin. From another origin the only way in is a one-line `blob:`
 * module on the page's origin that imports the worker with CORS, so such a page's CSP must allow
 * `worker-src blob: {asset origin}` (Chromium checks a module worker's imports against
 * `worker-src`), and `script-src` the asset origin plus `'wasm-unsafe-eval'` (the shim inherits
 * the page's policy). `revoke` frees the shim once the worker runs.
 */
export function ffmpegWorkerSource(workerUrl: string, pageOrigin: string = location.origin): { url: string; shim: boolean; revoke(): void } {
  if (new URL(workerUrl).origin === pageOrigin) return { url: workerUrl, shim: false, revoke: () => {} };
  const url = URL.createObjectURL(new Blob([`import ${JSON.stringify(workerUrl)};\n`], { type: 'text/javascript' }));
  return { url, shim: true, revoke: () => URL.revokeObjectURL(url) };
}

/** How long an idle worker (and the ~30 MB core in it, and the multi-thread core's pthread workers) is kept for the next job. */
export const FFMPEG_IDLE_MS = 30_000;

export interface MediaTranscoderOptions {
  /** Terminate the worker after this long without a job. Default `FFMPEG_IDLE_MS`. */
  readonly idleMs?: number;
}

/**
 * FFmpeg.wasm in its worker, loaded from `assetBase` (our own origin, never a CDN, never a
 * `blob:` copy of a core): the multi-thread core when the page is cross-origin isolated and the
 * worker starts from the assets' own origin, the single-thread core otherwise. One worker, reused
 * job after job and terminated after `idleMs` without one; `cancel()` and `dispose()` terminate
 * it at once (the next job loads a fresh one).
 */
export class MediaTranscoder {
  #ffmpeg: Promise<FFmpegWorkerClient> | undefined;
  /** The worker of `#ffmpeg`, from the moment it starts (so a cancel during the load ends it too). */
  #client: FFmpegWorkerClient | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #idleMs: number;
  #log: string[] = [];
  #progress: ((line: string) => void) | undefined;
  /** Jobs started and not yet settled. */
  #jobs = 0;
  /** `keepWarm()` holds not yet released: the worker is kept past `idleMs` while any is. */
  #holds = 0;
  /** The warm-up remux while it runs: a job waits for it (one job at a time in the worker, and its log is its own). */
  #warmingUp: Promise<void> | undefined;
  /** Bumped by `cancel()`: a job that fails after a cancel rejects with `TranscodeCancelledError`. */
  #cancels = 0;

  #multiThread: boolean;
  /** The core the current worker runs, set when its load starts. */
  #loadedCore: TranscoderCore | undefined;
  #warnedFallback = false;

  /** @param assetBase absolute URL ending in `/` under which `FFMPEG_ASSETS` are served */
  constructor(
    private readonly assetBase: string,
    multiThread: boolean = globalThis.crossOriginIsolated === true,
    options: MediaTranscoderOptions = {},
  ) {
    // The core's pthread workers start from the worker's origin: never through a shim.
    this.#multiThread = multiThread && new URL(assetBase).origin === location.origin;
    this.#idleMs = options.idleMs ?? FFMPEG_IDLE_MS;
  }

  /** Runs one public job: the worker is kept while any runs and for `idleMs` after the last. */
  async #job<T>(work: () => Promise<T>): Promise<T> {
    this.#jobs++;
    clearTimeout(this.#idleTimer);
    try {
      await this.#warmingUp;
      return await this.#withFallback(work);
    } finally {
      this.#jobs--;
      this.#idle();
    }
  }

  /** Runs `work`; a failure after `cancel()` is the cancel, whatever the worker said. */
  async #attempt<T>(work: () => Promise<T>): Promise<T> {
    const cancels = this.#cancels;
    try {
      return await work();
    } catch (error) {
      if (this.#cancels !== cancels) throw new TranscodeCancelledError();
      throw error;
    }
  }

  /**
   * Runs `work`; when the multi-thread core fails it (not a cancel, nor ffmpeg exiting non-zero
   * on a bad input), warns once and falls back to the single-thread core for this and every later
   * job, so an unknown core-mt failure costs time, not the upload. `core` then says `core`.
   */
  async #withFallback<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.#attempt(work);
    } catch (error) {
      if (!this.#multiThread || error instanceof TranscodeCancelledError || error instanceof FFmpegExitError) throw error;
      this.#multiThread = false;
      this.#terminate();
      if (!this.#warnedFallback) {
        this.#warnedFallback = true;
        console.warn('live-upload: the multi-thread FFmpeg.wasm core failed; using the single-thread core from now on', error);
      }
      return this.#attempt(work);
    }
  }

  /** Which core the jobs run on: `core-mt` until (unless) it fails and the transcoder falls back to `core`. */
  get core(): TranscoderCore {
    return this.#multiThread ? 'core-mt' : 'core';
  }

  #load(): Promise<FFmpegWorkerClient> {
    clearTimeout(this.#idleTimer);
    this.#ffmpeg ??= (async () => {
      const url = (path: string) => new URL(path, this.assetBase).href;
      this.#loadedCore = this.core;
      const source = ffmpegWorkerSource(url(FFMPEG_ASSETS.classWorker));
      try {
        const worker = new FFmpegWorkerClient(source.url, (line) => {
          this.#log.push(line);
          this.#progress?.(line);
        });
        this.#client = worker;
        const urls: FFmpegCoreUrls = this.#multiThread
          ? { coreURL: multiThreadCoreUrl(url(FFMPEG_ASSETS.coreMt.js), navigator.hardwareConcurrency), wasmURL: url(FFMPEG_ASSETS.coreMt.wasm), workerURL: url(FFMPEG_ASSETS.coreMt.worker) }
          : { coreURL: url(FFMPEG_ASSETS.core.js), wasmURL: url(FFMPEG_ASSETS.core.wasm) };
        try {
          await worker.load(urls);
        } catch (error) {
          worker.terminate();
          throw error;
        }
        return worker;
      } finally {
        source.revoke();
      }
    })();
    const loading = this.#ffmpeg;
    loading.catch(() => {
      if (this.#ffmpeg !== loading) return;
      this.#ffmpeg = undefined;
      this.#client = undefined;
    });
    return loading;
  }

  /** Terminates the worker once no job has run for `idleMs`. */
  #idle(): void {
    clearTimeout(this.#idleTimer);
    if (this.#jobs > 0 || this.#holds > 0 || !this.#ffmpeg) return;
    this.#idleTimer = setTimeout(() => {
      if (this.#jobs === 0 && this.#holds === 0) this.#terminate();
    }, this.#idleMs);
  }

  /** Starts loading the core now (it is ~30 MB), so the first job does not wait for it. */
  async preload(): Promise<void> {
    await this.#load();
    this.#idle();
  }

  /**
   * Starts loading the core now and keeps the worker, past `idleMs`, until the returned release
   * is called (then the idle time applies as after a job): the element holds it while its live
   * player plays, so the first Clip press finds the core loaded instead of waiting 2-3 s for it.
   * A load that fails here is not reported: the next job loads again (falling back from
   * `core-mt` as it does) and reports its own failure.
   *
   * `warmUp`, asked for once the core is loaded: a short input (a segment the player has) that
   * is remuxed once, output discarded, unless a job came first. The first job on a new core
   * pays for compiling the ffmpeg code it runs (the wasm compiles lazily): about a second, on
   * the press, without it.
   */
  keepWarm(warmUp?: () => { readonly bytes: Uint8Array; readonly cut: CutRange } | undefined): () => void {
    this.#holds++;
    clearTimeout(this.#idleTimer);
    const loading = this.#load();
    loading.then(
      () => {
        const sample = this.#jobs === 0 && this.#ffmpeg === loading ? warmUp?.() : undefined;
        if (!sample) return;
        const warming: Promise<void> = this.#job(() => this.#run(sample.bytes, (i, o) => remuxArgs(i, o, sample.cut), sample.cut.durationMs)).then(
          () => {},
          () => {},
        );
        this.#warmingUp = warming;
        void warming.finally(() => {
          if (this.#warmingUp === warming) this.#warmingUp = undefined;
        });
      },
      () => {},
    );
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#idle();
    };
  }

  async #exec(args: string[], onLine?: (line: string) => void): Promise<{ code: number; log: string[] }> {
    const ffmpeg = await this.#load();
    this.#log = [];
    this.#progress = onLine;
    const core = this.#loadedCore;
    try {
      const code = await ffmpeg.exec(core === 'core-mt' ? multiThreadCoreArgs(args, navigator.hardwareConcurrency) : args);
      return { code, log: this.#log };
    } catch (error) {
      // The core's own message is often a symptom (see multiThreadCoreArgs); the log says why.
      throw new Error(`ffmpeg (${core}) failed: ${error instanceof Error ? error.message : String(error)}; log: ${this.#log.slice(-3).join(' | ')}`, { cause: error });
    } finally {
      this.#progress = undefined;
    }
  }

  async #run(input: Uint8Array, args: (inName: string, outName: string) => string[], durationMs: number, onProgress?: ProgressListener): Promise<Uint8Array> {
    return this.#runInputs([input], ([inName], outName) => args(inName!, outName), durationMs, onProgress);
  }

  /** Writes each input as its own file, runs `args` over their names, and reads the MP4 it wrote. */
  async #runInputs(inputs: readonly Uint8Array[], args: (inNames: readonly string[], outName: string) => string[], durationMs: number, onProgress?: ProgressListener): Promise<Uint8Array> {
    const ffmpeg = await this.#load();
    const job = crypto.randomUUID().slice(0, 8);
    const inNames = inputs.map((_input, index) => `in-${job}-${index}`);
    const outName = `out-${job}.mp4`;
    try {
      for (const [index, input] of inputs.entries()) await ffmpeg.writeFile(inNames[index]!, input.slice());
      const { code, log } = await this.#exec(args(inNames, outName), (line) => {
        const fraction = progressFromLog(line, durationMs);
        if (fraction !== undefined) onProgress?.(fraction);
      });
      if (code !== 0) throw new FFmpegExitError(`ffmpeg exited with ${code}: ${log.slice(-3).join(' | ')}`);
      const output = await ffmpeg.readFile(outName);
      if (output.byteLength === 0) throw new FFmpegExitError('ffmpeg produced no output');
      onProgress?.(1);
      return output;
    } finally {
      if (!ffmpeg.terminated) {
        for (const inName of inNames) await ffmpeg.deleteFile(inName).catch(() => {});
        await ffmpeg.deleteFile(outName).catch(() => {});
      }
    }
  }

  /** What ffmpeg reads from `input`: container, codecs, size, duration. */
  probe(input: Uint8Array): Promise<MediaInfo> {
    return this.#job(() => this.#probe(input));
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
    return this.#job(() => this.#run(input, (i, o) => remuxArgs(i, o, cut), cut.durationMs, onProgress));
  }

  /** Stream copy of a replay clip: the video rung's part and the audio rendition's part (when there is one) into one MP4. */
  remuxReplay(video: { readonly bytes: Uint8Array; readonly cut: CutRange }, audio: { readonly bytes: Uint8Array; readonly cut: CutRange } | undefined, onProgress?: ProgressListener): Promise<Uint8Array> {
    const inputs = audio ? [video.bytes, audio.bytes] : [video.bytes];
    return this.#job(() =>
      this.#runInputs(inputs, ([videoName, audioName], out) => replayRemuxArgs({ name: videoName!, cut: video.cut }, audio && audioName ? { name: audioName, cut: audio.cut } : undefined, out), video.cut.durationMs, onProgress),
    );
  }

  /** Re-encode to H.264/AAC MP4 at most 720p: exact cuts, size targets, normalisation. */
  encode(input: Uint8Array, options: EncodeOptions & { durationMs: number }, onProgress?: ProgressListener): Promise<Uint8Array> {
    return this.#job(() => this.#run(input, (i, o) => encodeArgs(i, o, options), options.cut?.durationMs ?? options.durationMs, onProgress));
  }

  /** Stops the running job (its promise rejects with `TranscodeCancelledError`) and terminates the worker. */
  cancel(): void {
    this.#cancels++;
    this.#terminate();
  }

  /** Terminates the worker (loaded or loading); the next job starts a fresh one. */
  #terminate(): void {
    clearTimeout(this.#idleTimer);
    this.#client?.terminate();
    this.#client = undefined;
    this.#ffmpeg = undefined;
  }

  /** Whether a job is running. */
  get busy(): boolean {
    return this.#jobs > 0;
  }

  /** Whether a worker is started or starting (it holds the core's memory and, on `core-mt`, its pthread workers). */
  get workerAlive(): boolean {
    return this.#ffmpeg !== undefined;
  }
}
