import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: children run from here so `--import tsx` resolves. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A benchmark helper process (load generator, SSE subscribers) talking over IPC. */
export interface BenchChild<Out> {
  readonly process: ChildProcess;
  send(message: unknown): void;
  /** The next message matching `accept`, within `timeoutMs`. Messages nobody waits for are queued. */
  next<T extends Out>(accept: (message: Out) => message is T, timeoutMs: number): Promise<T>;
  /** Asks it to exit (IPC disconnect), then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/**
 * Spawns `node --import tsx <script>` with an IPC channel using structured-clone serialization
 * (typed arrays cross cheaply). The child's stdout/stderr are passed through.
 */
export function spawnBenchChild<Out>(script: URL): BenchChild<Out> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(script)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const queue: Out[] = [];
  const waiters = new Set<() => void>();
  let exited: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (message) => {
    queue.push(message as Out);
    for (const wake of [...waiters]) wake();
  });
  child.once('exit', (code, signal) => {
    exited = new Error(`${fileURLToPath(script)} exited (code ${code}, signal ${signal})`);
    for (const wake of [...waiters]) wake();
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  return {
    process: child,
    send(message) {
      if (child.connected) child.send(message as object);
    },
    next(accept, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const index = queue.findIndex(accept);
          if (index >= 0) {
            done();
            resolve(queue.splice(index, 1)[0] as never);
          } else if (exited) {
            done();
            reject(exited);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no answer from ${fileURLToPath(script)} within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/** In a child: the typed IPC channel to the parent. Exits when the parent disconnects. */
export function parentChannel<In>(onMessage: (message: In) => void | Promise<void>): (message: unknown) => void {
  if (!process.send) throw new Error('run this through the bench (it needs an IPC channel to its parent)');
  process.on('message', (message) => {
    void Promise.resolve(onMessage(message as In)).catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });
  });
  process.once('disconnect', () => process.exit(0));
  return (message) => {
    // With a callback a closed channel is an ignored error, not an 'error' event that kills us.
    if (process.connected) process.send?.(message as object, undefined, undefined, () => undefined);
  };
}
