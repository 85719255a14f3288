import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

export interface SseClient {
  readonly response: Response;
  /** Every event received so far, in order. */
  readonly events: SseEvent[];
  /** Comments (heartbeats) received so far. */
  readonly comments: string[];
  /** Resolves with the first event (from now, or already received after `fromIndex`) that matches. */
  next(match: (event: SseEvent) => boolean, options?: { timeoutMs?: number; fromIndex?: number }): Promise<SseEvent>;
  close(): void;
}

/** A minimal SSE client over fetch, for tests: full control of headers such as `Last-Event-ID`. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      events.push({ event: message.event ?? 'message', id: message.id, data: message.data });
      for (const wake of waiters) wake();
    },
    onComment: (comment) => {
      comments.push(comment);
      for (const wake of waiters) wake();
    },
  });
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          parser.feed(value);
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return {
    response,
    events,
    comments,
    next(match, options = {}) {
      const { timeoutMs = 5000, fromIndex = 0 } = options;
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(fromIndex).find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.event))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
}
