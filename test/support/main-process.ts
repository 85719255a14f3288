import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What the child inherits from the shell running the tests: enough to run, nothing the server
 * reads as configuration (so a developer's NATS_URL or NODE_ENV cannot leak in).
 */
const INHERITED_VARIABLES = ['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT'];

/**
 * A replica's first start on a fresh three-node cluster creates every stream, bucket and consumer
 * in three copies, one after another: CI measured 16 s for each of two replicas, so 30 s was
 * within a loaded moment of failing.
 */
const READY_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_CHARS = 200_000;

export interface ExitResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** `node --import tsx server/src/main.ts`, as `npm start` runs it, owned by one test. */
export interface MainProcess {
  /** The URL the process printed ("live-upload is running at ..."). */
  readonly url: string;
  readonly pid: number;
  /** Everything it wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Sends `signal` and resolves with how it exited and how long that took, or rejects after `timeoutMs` (then SIGKILLs it). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitResult & { elapsedMs: number }>;
  /** SIGKILL unless it already exited. For cleanup; never throws. */
  kill(): Promise<void>;
}

/**
 * Spawns the real entry point on the given environment (on top of PATH and the like, with
 * PORT=0, HOST=127.0.0.1, a temporary QUARANTINE_DIR and EMBEDDED_NATS=off unless given) and
 * resolves once it prints its URL.
 */
export async function startMain(env: Record<string, string>): Promise<MainProcess> {
  // Uploads land in a directory of this test's own, removed when the process is gone.
  const quarantineDir = await mkdtemp(join(tmpdir(), 'live-upload-e2e-quarantine-'));
  const childEnv: NodeJS.ProcessEnv = {
    ...Object.fromEntries(INHERITED_VARIABLES.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]]))),
    PORT: '0',
    HOST: '127.0.0.1',
    QUARANTINE_DIR: quarantineDir,
    // The in-memory bus unless a test asks for the embedded nats-server (with a store of its own).
    EMBEDDED_NATS: 'off',
    ...env,
  };

  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test process that dies without cleanup must not leave a server behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT_CHARS);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  child.once('error', (error) => append(Buffer.from(`spawn failed: ${error.message}\n`)));
  const exited = new Promise<ExitResult>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      void rm(quarantineDir, { recursive: true, force: true }).finally(() => resolve({ code, signal }));
    });
  });

  let url: string;
  try {
    url = await waitForUrl(child, exited, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }

  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    url,
    pid: child.pid!,
    output: () => output,
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      const started = performance.now();
      if (!hasExited()) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`main.ts did not exit within ${timeoutMs} ms of ${signal}; output:\n${output}`));
        }, timeoutMs);
      });
      try {
        const result = await Promise.race([exited, timedOut]);
        return { ...result, elapsedMs: Math.round(performance.now() - started) };
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (!hasExited()) child.kill('SIGKILL');
      await exited;
    },
  };
}

function waitForUrl(child: ChildProcess, exited: Promise<ExitResult>, output: () => string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new Error(`main.ts printed no URL within ${READY_TIMEOUT_MS} ms; output:\n${output()}`));
    }, READY_TIMEOUT_MS);
    const onData = (): void => {
      const match = /live-upload is running at (http:\/\/\S+)/.exec(output());
      if (!match?.[1]) return;
      done();
      resolve(match[1]);
    };
    const done = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
    };
    child.stdout?.on('data', onData);
    void exited.then(({ code, signal }) => {
      done();
      reject(new Error(`main.ts exited before it was ready (code ${code}, signal ${signal}); output:\n${output()}`));
    });
  });
}
