/**
 * A FIFO of (key, time) pairs with O(1) push and shift: what is dropped or fired oldest first
 * (duplicate-window ids, KV ttls, ack deadlines) is queued here in the order it was stamped.
 *
 * A `Map` walked from its start for the same job looks as if it did the same, but is not: a
 * V8 Map keeps every deleted entry as a hole until it next rehashes, and an iterator steps
 * over each one. Under a steady flow of adds and expiries that is most of the table, walked
 * on every add.
 */
export class TimedQueue<K> {
  private keys: K[] = [];
  private times: number[] = [];
  private head = 0;

  push(key: K, atMs: number): void {
    this.keys.push(key);
    this.times.push(atMs);
  }

  /** The oldest key, or undefined when the queue is empty. */
  get headKey(): K | undefined {
    return this.head < this.keys.length ? this.keys[this.head] : undefined;
  }

  /** The oldest key's time, or undefined when the queue is empty. */
  get headMs(): number | undefined {
    return this.head < this.times.length ? this.times[this.head] : undefined;
  }

  get size(): number {
    return this.keys.length - this.head;
  }

  /** Removes the oldest pair (nothing when empty). */
  shift(): void {
    if (this.head >= this.keys.length) return;
    this.keys[this.head] = undefined as K; // let go of it now, not at the next compaction
    this.head++;
    if (this.head === this.keys.length) {
      this.clear();
    } else if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.keys = [];
    this.times = [];
    this.head = 0;
  }
}
