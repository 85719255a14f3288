/**
 * The time an ingest runs on: injected, so tests drive a follower through minutes of a live
 * broadcast without waiting (see test/fakes/hls-origin/manual-clock.ts), while production uses
 * `systemClock`. Waits between polls and retries go through `sleep`; time caps on requests go
 * through `deadline`, so a test can tell "the follower is idle" (sleeping) from "a request is in
 * flight" (a deadline pending).
 */
export interface IngestClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or at once (never rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `onExpired` after `ms` unless the returned cancel function is called first. */
  deadline(ms: number, onExpired: () => void): () => void;
}

/**
 * Wall-clock `now`, with waits `speedup` times shorter than asked: a follower polls a live
 * playlist that is served faster than real time (benches) at the pace the playlist moves.
 * Deadlines stay real: they cap requests, which take real time.
 */
export function scaledClock(speedup: number): IngestClock {
  return {
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms / speedup);
        signal?.addEventListener('abort', done, { once: true });
      }),
    deadline: (ms, onExpired) => {
      const timer = setTimeout(onExpired, ms);
      return () => clearTimeout(timer);
    },
  };
}

/** Wall-clock time and real timers. */
export const systemClock: IngestClock = scaledClock(1);
