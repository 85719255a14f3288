import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { watch } from 'node:fs';
import { access, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MEDIA_BINARIES, runFfmpeg } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import { DEMO_LIVE_PLAYLIST, demoLiveSourceArgs, findClockFont } from './demo-live-source.js';
import { processExists } from '../process-exists.js';

export interface DemoLiveStreamOptions {
  readonly logger: Logger;
  /** The ffmpeg executable (default: `ffmpeg` on PATH). */
  readonly ffmpeg?: string;
  /** The font for the burned-in clock; undefined: the first of `CLOCK_FONT_CANDIDATES` that exists; null: none. */
  readonly fontFile?: string | null;
  /** First restart delay after a crash; doubles per crash in a row up to `maxRestartDelayMs`. */
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  /** A run this long counts as healthy: the next crash restarts after `restartDelayMs` again. */
  readonly healthyRunMs?: number;
  /** How long a stopped ffmpeg gets to exit after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs?: number;
}

const STDERR_TAIL_CHARS = 2048;
/** Stream directories are `{tmpdir}/live-upload-demo-live-*`, each naming its server's pid in `OWNER_FILE`. */
const DIR_PREFIX = 'live-upload-demo-live-';
const OWNER_FILE = '.owner-pid';
/** Wraps the child so the kernel SIGKILLs it when this process dies, even by SIGKILL (Linux, util-linux). */
const SETPRIV = '/usr/bin/setpriv';

/**
 * The demo's real local live stream: one supervised ffmpeg writing a rolling HLS playlist into
 * a temporary directory of its own. `start()` and `stop()` follow the simulated streamer;
 * a crash restarts it with exponential backoff; `close()` kills it and removes the directory.
 * No ffmpeg is left behind: stopping waits for the exit, a process `exit` SIGKILLs it, and
 * where `setpriv` exists the child carries a parent-death signal against a killed server.
 */
/** What a `DemoLiveStream` reports: a process started, or exited (with the restart delay when it crashed). */
export interface DemoLiveStreamEvents {
  started: [pid: number | undefined];
  exited: [exit: { code: number | null; signal: NodeJS.Signals | null; restartInMs: number | null }];
}

export class DemoLiveStream extends EventEmitter<DemoLiveStreamEvents> {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private wanted = false;
  private closed = false;
  private crashesInARow = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stderrTail = '';
  private runs = 0;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  private constructor(
    /** Where the playlist and segments are written; served read-only by the demo routes. */
    readonly dir: string,
    private readonly ffmpeg: string,
    private readonly fontFile: string | null,
    private readonly useSetpriv: boolean,
    private readonly options: DemoLiveStreamOptions,
  ) {
    super();
  }

  /**
   * A stream ready to start, or undefined when ffmpeg cannot run here (logged once: the demo
   * then runs without its live stream).
   */
  static async open(options: DemoLiveStreamOptions): Promise<DemoLiveStream | undefined> {
    const ffmpeg = options.ffmpeg ?? DEFAULT_MEDIA_BINARIES.ffmpeg;
    try {
      await runFfmpeg(['-version'], { timeoutMs: 10_000, binaries: { ffmpeg } });
    } catch (error) {
      options.logger.warn({ err: error, ffmpeg }, 'ffmpeg is not available: the demo runs without its local live stream');
      return undefined;
    }
    const fontFile = options.fontFile === undefined ? await findClockFont() : options.fontFile;
    if (!fontFile) options.logger.info('no font for the clock: the demo stream shows testsrc2 without it');
    const useSetpriv = process.platform === 'linux' && (await access(SETPRIV).then(() => true, () => false));
    await removeAbandonedDirs(options.logger);
    const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
    await writeFile(join(dir, OWNER_FILE), String(process.pid));
    return new DemoLiveStream(dir, ffmpeg, fontFile, useSetpriv, options);
  }

  /** The running ffmpeg's process id, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the stream should be running (it may be between a crash and its restart). */
  get live(): boolean {
    return this.wanted;
  }

  /** How many ffmpeg processes were started so far (restarts included). */
  get starts(): number {
    return this.runs;
  }

  get playlistPath(): string {
    return join(this.dir, DEMO_LIVE_PLAYLIST);
  }

  /** Starts the stream (a fresh playlist) unless it already runs. */
  async start(): Promise<void> {
    if (this.closed || this.wanted) return;
    this.wanted = true;
    this.crashesInARow = 0;
    await this.exited;
    await this.clearDir();
    if (this.wanted && !this.child) this.spawn();
  }

  /**
   * Resolves once the playlist exists (the first segment is written, about 2 s after start),
   * woken by changes in the directory; rejects when the stream is not running or after `timeoutMs`.
   */
  ready(timeoutMs = 15_000): Promise<void> {
    if (!this.wanted) return Promise.reject(new Error('the demo live stream is not running'));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const watcher = watch(this.dir);
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        watcher.close();
        if (error) reject(error);
        else resolve();
      };
      const check = () => void access(this.playlistPath).then(() => finish(), () => undefined);
      const timer = setTimeout(() => finish(new Error(`the demo live stream wrote no playlist within ${timeoutMs} ms`)), timeoutMs);
      watcher.on('error', (error) => finish(error));
      watcher.on('change', check);
      check();
    });
  }

  /** Stops the stream and waits for ffmpeg to exit; the playlist is gone afterwards. */
  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), this.options.stopTimeoutMs ?? 3_000);
      await this.exited;
      clearTimeout(killer);
    }
    await this.clearDir();
  }

  /** Stops for good and removes the directory. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private spawn(): void {
    const args = demoLiveSourceArgs({ dir: this.dir, fontFile: this.fontFile });
    const [command, argv] = this.useSetpriv
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', this.ffmpeg, '-nostdin', '-hide_banner', ...args]]
      : [this.ffmpeg, ['-nostdin', '-hide_banner', ...args]];
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    const startedAt = performance.now();
    this.child = child;
    this.runs += 1;
    this.stderrTail = '';
    process.once('exit', this.killOnExit);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    this.exited = new Promise<void>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        if (this.child !== child) return resolve();
        this.child = undefined;
        process.off('exit', this.killOnExit);
        resolve();
        if (!this.wanted) {
          this.options.logger.info({ code, signal }, 'demo live stream stopped');
          this.emit('exited', { code, signal, restartInMs: null });
          return;
        }
        const restartInMs = this.crashed(performance.now() - startedAt, { code, signal, err: error });
        this.emit('exited', { code, signal, restartInMs });
      };
      child.once('error', (error) => finish(null, null, error));
      child.once('exit', (code, signal) => finish(code, signal));
    });
    this.options.logger.info({ pid: child.pid, dir: this.dir }, 'demo live stream started');
    this.emit('started', child.pid);
  }

  /** Schedules the restart after a crash; returns its delay. */
  private crashed(ranMs: number, exit: { code: number | null; signal: NodeJS.Signals | null; err: Error | undefined }): number {
    const initial = this.options.restartDelayMs ?? 1_000;
    if (ranMs >= (this.options.healthyRunMs ?? 30_000)) this.crashesInARow = 0;
    const delayMs = Math.min(initial * 2 ** this.crashesInARow, this.options.maxRestartDelayMs ?? 30_000);
    this.crashesInARow += 1;
    this.options.logger.warn({ ...exit, stderr: this.stderrTail, restart_in_ms: delayMs, crashes_in_a_row: this.crashesInARow }, 'demo live stream exited; restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.wanted && !this.closed && !this.child) this.spawn();
    }, delayMs);
    return delayMs;
  }

  /** Removes what a previous run wrote, so a stopped stream has no playlist and a new one starts fresh. */
  private async clearDir(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(names.filter((name) => name !== OWNER_FILE).map((name) => rm(join(this.dir, name), { force: true })));
  }
}

/**
 * Removes the stream directories of servers that were killed before they could (SIGKILL):
 * those whose owner process no longer runs. A directory without an owner file is left alone.
 */
async function removeAbandonedDirs(logger: Logger): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names.filter((entry) => entry.startsWith(DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => 'NaN'));
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || processExists(owner)) continue;
    await rm(dir, { recursive: true, force: true });
    logger.info({ dir }, 'removed the stream directory of a server that is gone');
  }
}
