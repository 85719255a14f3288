/**
 * A clock a test moves by hand, shaped like the ingest's `IngestClock`, and shared with the
 * fake HLS origin: minutes of a live broadcast pass in milliseconds of real time. `sleep`
 * (a follower between polls, or backing off) counts as idle; `deadline` (a request's time cap)
 * does not, so `runWhileIdle` never jumps time under a request in flight.
 */
interface Timer {
  readonly at: number;
  readonly order: number;
  readonly idle: boolean;
  readonly fire: () => void;
}

export class ManualClock {
  private current: number;
  private timers: Timer[] = [];
  private order = 0;
  private sleepWaiters: (() => void)[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1, 12)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = {
        at: this.current + Math.max(0, ms),
        order: this.order++,
        idle: true,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((candidate) => candidate !== timer);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      for (const waiter of this.sleepWaiters.splice(0)) waiter();
    });
  }

  deadline(ms: number, onExpired: () => void): () => void {
    const timer: Timer = { at: this.current + ms, order: this.order++, idle: false, fire: onExpired };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((candidate) => candidate !== timer);
    };
  }

  /** Pending time caps (requests in flight). */
  get deadlines(): number {
    return this.timers.filter((timer) => !timer.idle).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.current = Math.max(this.current, due.at);
      due.fire();
    }
    this.current = target;
  }

  /** Resolves once someone sleeps (at once if someone already does). */
  idle(): Promise<void> {
    if (this.timers.some((timer) => timer.idle)) return Promise.resolve();
    return new Promise<void>((resolve) => this.sleepWaiters.push(resolve));
  }

  /**
   * Runs `work` in fast-forward: whenever it sleeps, time jumps to the first sleeper's wake-up.
   * Resolves with `work`'s result (and rejects with its error).
   */
  async runWhileIdle<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const settled = work.finally(() => {
      done = true;
    });
    while (!done) {
      const state = await Promise.race([settled.then(() => 'done' as const, () => 'done' as const), this.idle().then(() => 'idle' as const)]);
      if (state === 'done') break;
      // Let promise continuations of the sleeper's neighbours run before jumping.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const next = this.timers.filter((timer) => timer.idle).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (next) this.advance(next.at - this.current);
    }
    return settled;
  }
}
