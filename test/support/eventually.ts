import { setTimeout as sleep } from 'node:timers/promises';

/** What `check` answers while the condition does not hold yet. */
type NotYet = undefined | null | false;

export interface EventuallyOptions {
  /** Pause between two looks. Default 25 ms. */
  readonly intervalMs?: number;
}

/**
 * Looks at `check` until it answers something other than `undefined`, `null` or `false`, and
 * resolves to that: the one wait for a condition no event announces (another process's disk,
 * a fake's state, a TTL expiry, readiness). Throws, naming `what`, once `timeoutMs` have
 * passed; an error thrown by `check` ends the wait at once.
 *
 * Prefer an event when there is one (a consumer's delivery, an SSE message, a watch).
 */
export async function eventually<T>(check: () => T | NotYet | Promise<T | NotYet>, what: string, timeoutMs = 10_000, options: EventuallyOptions = {}): Promise<T> {
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer !== undefined && answer !== null && answer !== false) return answer;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

