/**
 * Work in flight per key (a channel's moderation jobs, a receiver's deliveries), at most a
 * limit each: one key's burst cannot take every slot of a work-queue consumer. Held by one
 * consumer in one process; the bus's `maxAckPending` bounds the consumer as a whole.
 */
export class InFlightSlots {
  private readonly inFlight = new Map<string, number>();

  /** Takes a slot for `key`; false when `key` already has `limit` in flight. */
  tryAcquire(key: string, limit: number): boolean {
    const current = this.inFlight.get(key) ?? 0;
    if (current >= limit) return false;
    this.inFlight.set(key, current + 1);
    return true;
  }

  release(key: string): void {
    const current = this.inFlight.get(key) ?? 0;
    if (current <= 1) this.inFlight.delete(key);
    else this.inFlight.set(key, current - 1);
  }

  /** In flight for `key` now. */
  count(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }
}
