import { withTimeout } from './with-timeout.js';

/** Things a test receives (bus messages, emits), in arrival order, and a way to wait for one. */
export class Arrivals<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();

  push(item: T): void {
    this.items.push(item);
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * The first item at `fromIndex` or later that matches, as soon as it is here; rejects after
   * `timeoutMs` naming `what`.
   */
  next(predicate: (item: T) => boolean, what: string, options: { fromIndex?: number; timeoutMs?: number } = {}): Promise<T> {
    const fromIndex = options.fromIndex ?? 0;
    let check: (() => void) | undefined;
    const found = new Promise<T>((resolve) => {
      check = () => {
        const item = this.items.slice(fromIndex).find(predicate);
        if (item === undefined) return;
        this.waiters.delete(check!);
        resolve(item);
      };
      this.waiters.add(check);
      check();
    });
    return withTimeout(found, options.timeoutMs ?? 10_000, () => what).finally(() => this.waiters.delete(check!));
  }
}
