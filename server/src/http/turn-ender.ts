import type { ServerResponse } from 'node:http';

/**
 * Ends responses together, at the end of the current turn of the event loop (`setImmediate`),
 * instead of each the moment its request's work is done. A burst route answers requests that
 * arrived in the same turn back to back: the client's side is woken once for the lot, not
 * once per answer. On loopback, and behind a proxy on the same host, that wake-up is most of
 * what writing a small answer costs the kernel, most of all on the memory bus, where every
 * webhook is answered in the turn its request arrived in (the profile: `bench/README.md`,
 * ingest). The answers wait microseconds, never for another request's work.
 */
export class TurnEnder {
  private queued: Array<{ response: ServerResponse; body: string | undefined }> = [];

  /** `onEnded` runs for each response as it is ended (not for one skipped because it was closed). */
  constructor(private readonly onEnded?: (response: ServerResponse) => void) {}

  /** `response.end(body)` at the end of this turn; a response closed meanwhile is skipped. */
  end(response: ServerResponse, body?: string): void {
    if (this.queued.length === 0) setImmediate(this.flush);
    this.queued.push({ response, body });
  }

  private readonly flush = (): void => {
    const batch = this.queued;
    this.queued = [];
    for (const { response, body } of batch) {
      if (response.destroyed || response.writableEnded) continue;
      if (body === undefined) response.end();
      else response.end(body);
      this.onEnded?.(response);
    }
  };
}
