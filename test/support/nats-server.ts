import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer } from '../../server/src/embedded-nats.js';
import { freePort } from '../../server/src/free-port.js';

/** A real `nats-server` with JetStream, on 127.0.0.1, owned by one test file. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>`: stays the same across `restart()`. */
  readonly url: string;
  readonly port: number;
  /** JetStream file store: kept across `kill()` and `restart()`, removed by `stop()`. */
  readonly storeDir: string;
  /** Graceful shutdown, then removes the store dir. Final. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and store dir (gracefully stopping it first if it runs). */
  restart(): Promise<void>;
  /** SIGKILL, like a crash: the server stays down until `restart()`. */
  kill(): Promise<void>;
}

/** How long the server gets to say it is ready, and to exit when asked. */
const READY_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;

/**
 * Spawns `nats-server -js -a 127.0.0.1 -p <free port> -sd <temp dir>` and resolves once it
 * accepts clients. Throws a clear error when `nats-server` is not installed.
 */
export async function startNatsServer(): Promise<NatsServerHandle> {
  const binary = findNatsServer();
  if (!binary) {
    throw new Error(
      'nats-server not found on PATH: the NATS bus tests need a real nats-server (2.9 or newer) with JetStream; ' +
        'install it (e.g. `apt-get install nats-server`) or put the binary on PATH',
    );
  }
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'live-upload-nats-'));
  let child: ChildProcess | undefined = await launch(binary, port, storeDir);
  // A test run that dies without stop() must not leave a server behind.
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  async function halt(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async stop() {
      await halt('SIGTERM');
      process.off('exit', killOnExit);
      await rm(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await halt('SIGTERM');
      child = await launch(binary, port, storeDir);
    },
    async kill() {
      await halt('SIGKILL');
    },
  };
}

/** Spawns the server and waits for its "Server is ready" log line, bounded. */
function launch(binary: string, port: number, storeDir: string): Promise<ChildProcess> {
  return spawnNatsServer(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], 'nats-server');
}

/**
 * Spawns `binary args` and resolves once it logs "Server is ready"; rejects (and SIGKILLs it)
 * when it exits first or stays silent past `readyTimeoutMs`, with what it logged. `label` names it
 * in those errors (`nats-server n1`). Its pipes keep draining afterwards.
 */
export async function spawnNatsServer(binary: string, args: readonly string[], label: string, readyTimeoutMs = READY_TIMEOUT_MS): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      fail(new Error(`${label} did not become ready within ${readyTimeoutMs} ms:\n${log}`));
      child.kill('SIGKILL');
    }, readyTimeoutMs);
    function onOutput(chunk: Buffer): void {
      log += chunk.toString('utf8');
      if (log.includes('Server is ready')) finish();
    }
    function onExit(code: number | null, signal: NodeJS.Signals | null): void {
      fail(new Error(`${label} exited before it was ready (code ${code}, signal ${signal}):\n${log}`));
    }
    function onError(err: Error): void {
      fail(new Error(`could not start ${binary}: ${err.message}`));
    }
    function cleanUp(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onOutput);
      child.stderr?.off('data', onOutput);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining the pipes so a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
    }
    function finish(): void {
      cleanUp();
      resolve();
    }
    function fail(err: Error): void {
      cleanUp();
      reject(err);
    }
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  return child;
}
