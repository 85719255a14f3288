import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';
import { processExists } from './process-exists.js';

/** How long a local `nats-server` gets to say it is ready, and to exit when asked. */
const READY_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;
/** Who owns the store directory: this process and its nats-server, one JSON object. */
const OWNER_FILE = 'live-upload.owner.json';

/** A `nats-server -js` this process started, with its JetStream file store in `storeDir`. */
export interface EmbeddedNats {
  readonly url: string;
  readonly storeDir: string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and gives the store directory up. */
  stop(): Promise<void>;
}

/** Why no embedded NATS runs: the binary is missing, or another live-upload owns the store. */
export class EmbeddedNatsUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedNatsUnavailable';
  }
}

/** The `nats-server` binary on PATH (or the usual sbin/bin directories); undefined when none. */
export function findNatsServer(path: string | undefined = process.env['PATH']): string | undefined {
  const directories = (path ?? '').split(delimiter).filter(Boolean);
  for (const directory of [...directories, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin']) {
    const candidate = join(directory, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Starts `nats-server -js` on a free 127.0.0.1 port with its JetStream file store in
 * `storeDir` (`.data/nats` by default), so `npm start` keeps channels, upload records and the
 * audit trail across a restart on one machine with no database of our own. One process owns a
 * store directory at a time (an owner file names this process and its nats-server); a store
 * whose owner is gone is taken over, and a nats-server it left running (this process was
 * killed) is stopped first. Throws `EmbeddedNatsUnavailable` when there is no binary or the
 * store is in use.
 */
export async function startEmbeddedNats(options: { storeDir: string; binary?: string }): Promise<EmbeddedNats> {
  const binary = options.binary ?? findNatsServer();
  if (!binary) throw new EmbeddedNatsUnavailable('nats-server is not installed (not on PATH)');
  const { storeDir } = options;
  await mkdir(storeDir, { recursive: true, mode: 0o700 });
  const ownerFile = join(storeDir, OWNER_FILE);
  const previous = await readOwner(ownerFile);
  if (previous) {
    if (processExists(previous.pid)) throw new EmbeddedNatsUnavailable(`${storeDir} is in use by live-upload process ${previous.pid}`);
    if (previous.natsPid !== undefined && (await isNatsServerOf(previous.natsPid, storeDir))) await stopPid(previous.natsPid);
  }

  // A free port can be taken by someone else before nats-server binds it: then another one.
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    const spawned = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    await writeFile(ownerFile, JSON.stringify({ pid: process.pid, natsPid: spawned.pid }), { mode: 0o600 });
    try {
      await untilReady(spawned);
      child = spawned;
    } catch (error) {
      spawned.kill('SIGKILL');
      if (attempt < 3 && error instanceof Error && /address already in use/i.test(error.message)) continue;
      await rm(ownerFile, { force: true });
      throw error;
    }
  }
  const running = child;
  let stopping: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    stop: () =>
      (stopping ??= (async () => {
        await stopChild(running);
        await rm(ownerFile, { force: true });
      })()),
  };
}

async function readOwner(file: string): Promise<{ pid: number; natsPid?: number } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown; natsPid?: unknown };
    if (typeof parsed.pid !== 'number') return undefined;
    return { pid: parsed.pid, ...(typeof parsed.natsPid === 'number' ? { natsPid: parsed.natsPid } : {}) };
  } catch {
    return undefined;
  }
}

/** Is `pid` a nats-server on `storeDir` (Linux: its command line), so stopping it is ours to do? */
async function isNatsServerOf(pid: number, storeDir: string): Promise<boolean> {
  if (!processExists(pid)) return false;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const args = commandLine.split('\0');
  return args.some((arg) => arg.endsWith('nats-server')) && args.includes(storeDir);
}

async function stopPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  while (processExists(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (processExists(pid)) process.kill(pid, 'SIGKILL');
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Resolves on nats-server's "Server is ready" line; rejects, with its output, if it exits or takes longer than 10 s. */
function untilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onOutput);
      child.stderr?.off('data', onOutput);
      child.off('exit', onExit);
      // Keep draining the pipes so a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      if (error) reject(error);
      else resolve();
    };
    const onOutput = (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.includes('Server is ready')) done();
    };
    const onExit = (code: number | null) => done(new EmbeddedNatsUnavailable(`nats-server exited (code ${code}) before it was ready:\n${log.slice(-2000)}`));
    const timer = setTimeout(() => done(new EmbeddedNatsUnavailable(`nats-server was not ready within ${READY_TIMEOUT_MS} ms:\n${log.slice(-2000)}`)), READY_TIMEOUT_MS);
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('exit', onExit);
    child.once('error', (error) => done(new EmbeddedNatsUnavailable(`could not start nats-server: ${error.message}`)));
  });
}
