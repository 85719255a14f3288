/** At most `limit(subscriber)` deliveries to one subscriber in flight: a slow receiver cannot hold every slot. */
export class SubscriberSlots {
  private readonly inFlight = new Map<string, number>();

  tryAcquire(subscriberId: string, limit: number): boolean {
    const current = this.inFlight.get(subscriberId) ?? 0;
    if (current >= limit) return false;
    this.inFlight.set(subscriberId, current + 1);
    return true;
  }

  release(subscriberId: string): void {
    const current = this.inFlight.get(subscriberId) ?? 0;
    if (current <= 1) this.inFlight.delete(subscriberId);
    else this.inFlight.set(subscriberId, current - 1);
  }

  /** In flight to one subscriber now. */
  count(subscriberId: string): number {
    return this.inFlight.get(subscriberId) ?? 0;
  }
}
