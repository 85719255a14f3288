/** Runs at most `concurrency` jobs at once; the rest wait in FIFO order. */
export interface JobLimiter {
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Jobs running now. */
  readonly active: number;
  /** Jobs waiting for a slot. */
  readonly pending: number;
}

/** A small bounded-concurrency semaphore for media jobs (ffmpeg is CPU-bound: size it to the cores). */
export function createJobLimiter(concurrency: number): JobLimiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const waiting: Array<() => void> = [];
  let active = 0;

  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };

  const acquire = (): Promise<void> => {
    if (active < concurrency) {
      active += 1;
      return Promise.resolve();
    }
    // The slot is handed over directly by `release`, so `active` stays the same.
    return new Promise((resolve) => waiting.push(resolve));
  };

  return {
    async run<T>(job: () => Promise<T>): Promise<T> {
      await acquire();
      try {
        return await job();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get pending() {
      return waiting.length;
    },
  };
}
