/**
 * Work in flight per key (a channel's moderation jobs, a receiver's deliveries), at most a
 * limit each: one key's burst cannot take every slot of a work-queue consumer. Held by one
 * consumer in one process; the bus's `maxAckPending` bounds the consumer as a whole.
 *
 * A key at its limit can also keep a short waiting line (`acquire`): a slot freed goes straight
 * to the oldest waiter. Without it, a burst of one receiver's deliveries beyond its cap went back
 * to the bus for 200-400 ms each while its slots freed up within milliseconds (the outbound bench
 * was idle a sixth of its time on those naks).
 */
export class InFlightSlots {
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, Array<(acquired: boolean) => void>>();

  /** Takes a slot for `key`; false when `key` already has `limit` in flight. */
  tryAcquire(key: string, limit: number): boolean {
    const current = this.inFlight.get(key) ?? 0;
    if (current >= limit) return false;
    this.inFlight.set(key, current + 1);
    return true;
  }

  /**
   * Takes a slot for `key`, waiting in line for one when `key` is at its limit; false at once
   * when `maxWaiting` are already waiting for `key` (or later, when `abandonWaiting` is called).
   */
  acquire(key: string, limit: number, maxWaiting: number): Promise<boolean> {
    if (this.tryAcquire(key, limit)) return Promise.resolve(true);
    const line = this.waiting.get(key) ?? [];
    if (line.length >= maxWaiting) return Promise.resolve(false);
    this.waiting.set(key, line);
    return new Promise((resolve) => line.push(resolve));
  }

  /** Frees a slot of `key`, handing it to the oldest waiter of `key` when there is one. */
  release(key: string): void {
    const line = this.waiting.get(key);
    const next = line?.shift();
    if (line && line.length === 0) this.waiting.delete(key);
    if (next && this.inFlight.has(key)) {
      next(true);
      return;
    }
    const current = this.inFlight.get(key) ?? 0;
    if (current <= 1) this.inFlight.delete(key);
    else this.inFlight.set(key, current - 1);
    next?.(this.tryAcquire(key, Number.POSITIVE_INFINITY));
  }

  /** Answers every waiter false (the consumer is stopping: their work goes back to the queue). */
  abandonWaiting(): void {
    const lines = [...this.waiting.values()];
    this.waiting.clear();
    for (const line of lines) for (const resolve of line) resolve(false);
  }

  /** In flight for `key` now. */
  count(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }

  /** Waiting for a slot of `key` now. */
  waitingFor(key: string): number {
    return this.waiting.get(key)?.length ?? 0;
  }
}
