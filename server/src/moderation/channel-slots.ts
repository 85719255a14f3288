/** At most `perChannel` jobs of one channel in flight: one channel's burst cannot starve the others. */
export class ChannelSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perChannel: number) {
    if (!Number.isInteger(perChannel) || perChannel < 1) throw new RangeError(`perChannel must be a positive integer, got ${perChannel}`);
  }

  /** Takes a slot; false when the channel is at its cap. */
  tryAcquire(channel: string): boolean {
    const current = this.inFlight.get(channel) ?? 0;
    if (current >= this.perChannel) return false;
    this.inFlight.set(channel, current + 1);
    return true;
  }

  release(channel: string): void {
    const current = this.inFlight.get(channel) ?? 0;
    if (current <= 1) this.inFlight.delete(channel);
    else this.inFlight.set(channel, current - 1);
  }
}
