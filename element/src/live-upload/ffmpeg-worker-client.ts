/**
 * The page's side of `@ffmpeg/ffmpeg` 0.12's worker (`@ffmpeg/ffmpeg/worker`, built into
 * `ffmpeg/ffmpeg-worker.js`): the same messages its `FFmpeg` class sends, from a worker we start
 * and watch ourselves. The class never listens for its worker's `error` event, so a worker that
 * cannot start (a 404, a Content-Security-Policy that refuses it) leaves `load()` pending
 * forever (ffmpegwasm/ffmpeg.wasm#933); here every pending call rejects with `FFmpegWorkerError`.
 */

/** The message types of the 0.12 worker protocol (`FFMessageType` in `@ffmpeg/ffmpeg`). */
const MESSAGE = {
  load: 'LOAD',
  exec: 'EXEC',
  writeFile: 'WRITE_FILE',
  readFile: 'READ_FILE',
  deleteFile: 'DELETE_FILE',
  error: 'ERROR',
  log: 'LOG',
} as const;

type Request = (typeof MESSAGE)['load' | 'exec' | 'writeFile' | 'readFile' | 'deleteFile'];

/** What the core's `load` needs: absolute URLs of its module, its wasm and (multi-thread core) its pthread worker. */
export interface FFmpegCoreUrls {
  readonly coreURL: string;
  readonly wasmURL: string;
  readonly workerURL?: string;
}

/** The worker could not start, died, or was terminated; `message` says which. */
export class FFmpegWorkerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FFmpegWorkerError';
  }
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** One FFmpeg.wasm worker. `terminate()` ends it (and the core's own pthread workers with it). */
export class FFmpegWorkerClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #dead: FFmpegWorkerError | undefined;

  /**
   * Starts the worker module at `workerUrl` (same origin as the page, or a `blob:` shim). A
   * constructor the page's CSP refuses throws here; a script that fails to load rejects the
   * first call.
   */
  constructor(workerUrl: string, onLog: (line: string) => void) {
    try {
      this.#worker = new Worker(workerUrl, { type: 'module' });
    } catch (error) {
      throw new FFmpegWorkerError(`the FFmpeg worker could not start from ${workerUrl}: ${messageOf(error)}`, { cause: error });
    }
    this.#worker.addEventListener('message', ({ data }: MessageEvent<{ id?: number; type: string; data: unknown }>) => {
      if (data.type === MESSAGE.log) {
        onLog(String((data.data as { message?: unknown } | undefined)?.message ?? ''));
        return;
      }
      const pending = data.id === undefined ? undefined : this.#pending.get(data.id);
      if (!pending || data.id === undefined) return;
      this.#pending.delete(data.id);
      if (data.type === MESSAGE.error) pending.reject(new Error(String(data.data)));
      else pending.resolve(data.data);
    });
    this.#worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.#die(new FFmpegWorkerError(`the FFmpeg worker failed${event.message ? `: ${event.message}` : ` to load ${workerUrl}`}`));
    });
    this.#worker.addEventListener('messageerror', () => this.#die(new FFmpegWorkerError('the FFmpeg worker sent a message that could not be read')));
  }

  #send(type: Request, data: unknown, transfer: Transferable[] = []): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, type, data }, transfer);
    });
  }

  #die(error: FFmpegWorkerError): void {
    if (this.#dead) return;
    this.#dead = error;
    this.#worker.terminate();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  /** Loads the core into the worker: its module by `import()`, its wasm by `fetch`. */
  async load(urls: FFmpegCoreUrls): Promise<void> {
    await this.#send(MESSAGE.load, urls);
  }

  /** Runs ffmpeg with `args`; resolves with its exit code. */
  async exec(args: readonly string[]): Promise<number> {
    return Number(await this.#send(MESSAGE.exec, { args, timeout: -1 }));
  }

  /** Writes `data` (transferred: the caller's buffer is gone afterwards) into the core's file system. */
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    await this.#send(MESSAGE.writeFile, { path, data }, [data.buffer]);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const data = await this.#send(MESSAGE.readFile, { path, encoding: 'binary' });
    if (!(data instanceof Uint8Array)) throw new FFmpegWorkerError(`${path} did not read as bytes`);
    return data;
  }

  async deleteFile(path: string): Promise<void> {
    await this.#send(MESSAGE.deleteFile, { path });
  }

  /** Ends the worker at once; calls in flight reject with `FFmpegWorkerError`. */
  terminate(): void {
    this.#die(new FFmpegWorkerError('the FFmpeg worker was terminated'));
  }

  get terminated(): boolean {
    return this.#dead !== undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
