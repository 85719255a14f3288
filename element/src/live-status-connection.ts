import type { LiveStatusSummary } from '@live-upload/schema';
import { isChannel, parseReplayProgress, parseStatusRecord, type ReplayProgress } from './status-record.js';

/** Receives a channel's record: the last known one at once on subscribe, then each one that arrives. */
export type LiveStatusListener = (record: LiveStatusSummary) => void;
/** Receives a channel's replay progress as it comes (nothing is replayed on subscribe: progress is superseded by the next). */
export type ReplayProgressListener = (progress: ReplayProgress) => void;

/** The server answers 400 above this many channels on one connection. */
export const MAX_CHANNELS_PER_CONNECTION = 50;

/**
 * The SSE URL for some channels, relative to the page when `endpoint` is ''. `lastEventId`
 * asks the server for only what was missed.
 */
export function liveEventsUrl(endpoint: string, channels: readonly string[], lastEventId?: string): string {
  const query = new URLSearchParams(channels.map((channel) => ['channel', channel]));
  if (lastEventId) query.set('last_event_id', lastEventId);
  return `${endpoint.replace(/\/$/, '')}/api/v1/live/events?${query}`;
}

interface ChannelEntry {
  readonly listeners: Set<LiveStatusListener>;
  readonly progressListeners: Set<ReplayProgressListener>;
  record?: LiveStatusSummary;
}

/**
 * One endpoint's EventSource and the channels it carries.
 *
 * - Subscription changes are batched in a microtask; a batch that changes the set of channels
 *   reopens the EventSource with the new union (the first 50, the server's limit: the rest get
 *   no status rather than failing everyone's connection). With no channel left it closes.
 * - On error the native EventSource is closed (no browser-paced retries) and reopened after an
 *   exponential delay with jitter, with `last_event_id` so the server sends only what was missed.
 *   A connection the server refused (an answer that is no stream, such as the 429 / 503 of its
 *   per-client and global caps) is asked once more with `fetch` for its `Retry-After`, and not
 *   retried before that has passed.
 * - Frames go through `parseStatusRecord`; malformed ones and channels not asked for are ignored.
 *   One stream is ordered and the server dedupes by seq per connection (also on resume), so the
 *   latest valid frame is the channel's state; a `snapshot` and a `status` are applied alike.
 */
class EndpointConnection {
  /** Per subscribed channel: its subscribers and last record. */
  readonly #channels = new Map<string, ChannelEntry>();
  /** The channels the current EventSource was opened with. */
  #carried: string[] = [];
  #source: EventSource | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #lastEventId = '';
  #attempt = 0;
  #flushQueued = false;

  constructor(
    private readonly endpoint: string,
    private readonly retryDelayMs: number,
  ) {}

  subscribe(channel: string, listener: LiveStatusListener, onProgress?: ReplayProgressListener): () => void {
    let entry = this.#channels.get(channel);
    if (!entry) this.#channels.set(channel, (entry = { listeners: new Set(), progressListeners: new Set() }));
    const { listeners, progressListeners } = entry;
    listeners.add(listener);
    if (onProgress) progressListeners.add(onProgress);
    if (entry.record) listener(entry.record);
    this.#queueFlush();
    return () => {
      if (onProgress) progressListeners.delete(onProgress);
      // The entry (and its record) stays until the batch is flushed: a subscriber that comes
      // back in the same task (a page swapping one badge for another) gets the record at once,
      // and the connection, still carrying the channel, sends it nothing again.
      if (listeners.delete(listener) && !listeners.size) this.#queueFlush();
    };
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      for (const [channel, entry] of this.#channels) if (!entry.listeners.size) this.#channels.delete(channel);
      const wanted = [...this.#channels.keys()].sort().slice(0, MAX_CHANNELS_PER_CONNECTION);
      if (wanted.join() === this.#carried.join()) return;
      clearTimeout(this.#retry);
      this.#source?.close();
      this.#source = undefined;
      this.#carried = wanted;
      this.#lastEventId = '';
      this.#attempt = 0;
      if (wanted.length) this.#open();
    });
  }

  #open(): void {
    const url = liveEventsUrl(this.endpoint, this.#carried, this.#lastEventId);
    const source = new EventSource(url);
    const onFrame = (event: MessageEvent<string>): void => {
      this.#lastEventId = event.lastEventId || this.#lastEventId;
      const record = parseStatusRecord(event.data);
      const entry = record && this.#carried.includes(record.channel) && this.#channels.get(record.channel);
      if (!entry) return;
      this.#attempt = 0;
      entry.record = record;
      for (const listener of [...entry.listeners]) listener(record);
    };
    source.addEventListener('snapshot', onFrame);
    source.addEventListener('status', onFrame);
    source.addEventListener('vod-progress', (event: MessageEvent<string>) => {
      const progress = parseReplayProgress(event.data);
      const entry = progress && this.#carried.includes(progress.channel) && this.#channels.get(progress.channel);
      if (entry) for (const listener of [...entry.progressListeners]) listener(progress);
    });
    source.onerror = async () => {
      // CLOSED, not CONNECTING: the server answered, but with no stream (its caps answer 429 /
      // 503). EventSource hides the answer: one fetch reads its Retry-After (seconds); waitMs is
      // twice that, and the retry comes at a random point of its second half, never before it.
      // Otherwise (a network error: nothing to ask) the source is closed at once, before the
      // browser retries on its own, and the delay doubles per failed attempt from retryDelayMs
      // up to 30 s, with the same jitter.
      const waitMs = source.readyState > 1 && this.#source === source && (await fetch(url).then((response) => (response.body?.cancel(), 2e3 * +response.headers.get('retry-after')!), () => 0));
      source.close();
      if (this.#source === source) this.#retry = setTimeout(() => this.#open(), Math.max(Math.min(30_000, this.retryDelayMs * 2 ** this.#attempt++), waitMs || 0) * (1 + Math.random()) / 2);
    };
    this.#source = source;
  }
}

/**
 * The page's live-status connections: ONE EventSource per endpoint, shared by every badge (see
 * `EndpointConnection`; an endpoint nobody follows any more keeps a closed, empty entry). Use the
 * document's instance, `documentLiveStatusRegistry()`; construct one only to isolate a test.
 */
export class LiveStatusRegistry {
  readonly #connections = new Map<string, EndpointConnection>();

  /** @param retryDelayMs first reconnect delay; it doubles per failed attempt up to 30 s */
  constructor(private readonly retryDelayMs = 1000) {}

  /**
   * Follows `channel` on `endpoint` ('' = same origin); returns the unsubscribe function. An
   * invalid channel is never sent (a 400 would fail the connection every badge shares): no-op.
   * `onProgress` also hears the channel's replay progress (`vod-progress` events).
   */
  subscribe(endpoint: string, channel: string, listener: LiveStatusListener, onProgress?: ReplayProgressListener): () => void {
    if (!isChannel(channel)) return () => {};
    let connection = this.#connections.get(endpoint);
    if (!connection) this.#connections.set(endpoint, (connection = new EndpointConnection(endpoint, this.retryDelayMs)));
    return connection.subscribe(channel, listener, onProgress);
  }
}

const REGISTRY_KEY = Symbol.for('live-upload.live-status-registry');

/**
 * The document's one registry, created on first use and kept on the document itself (under a
 * `Symbol.for` key), so even two copies of this bundle share one connection per endpoint.
 */
export function documentLiveStatusRegistry(doc: Document = document): LiveStatusRegistry {
  const holder = doc as Document & { [REGISTRY_KEY]?: LiveStatusRegistry };
  return (holder[REGISTRY_KEY] ??= new LiveStatusRegistry());
}
