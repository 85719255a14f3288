import WebSocket from 'ws';
import type { Logger } from '../../observability/index.js';
import type { RawEventSink } from '../../provider-adapter/index.js';
import type { BlueskyDidDirectory } from './bluesky-links-directory.js';
import type { BlueskyMetrics, JetstreamFrameOutcome } from './bluesky-metrics.js';
import { toBlueskyRawEvent } from './bluesky-raw-event.js';
import type { JetstreamCursorStore } from './jetstream-cursor-store.js';
import { BLUESKY_COLLECTIONS, WANTED_COLLECTIONS, jetstreamEventSchema } from './jetstream-event.js';
import { isOwnStatusRecord } from './status-record.js';

export const JETSTREAM_DEFAULTS = {
  /** Frames above this are ignored and counted (Jetstream is also asked not to send them). */
  maxFrameBytes: 64 * 1024,
  /** A resumed connection starts this much before the cursor; msg ids make the overlap a no-op. */
  rewindMs: 5_000,
  /** The cursor is written to KV at most this often (and at stop). */
  cursorFlushMs: 1_000,
  reconnectInitialMs: 500,
  reconnectMaxMs: 30_000,
  /** A frame claiming a time further ahead of our clock than this is not believed (it would poison the cursor). */
  maxFutureMs: 10 * 60 * 1000,
} as const;

/** Jetstream's own limit on `wantedDids`. */
const MAX_WANTED_DIDS = 10_000;
/** Frames this large close the connection outright (ws `maxPayload`). */
const HARD_FRAME_LIMIT_FACTOR = 16;

export interface JetstreamConsumerOptions {
  /** Jetstream base URL, e.g. `wss://jetstream2.us-east.bsky.network` (`/subscribe` is appended). */
  readonly jetstreamUrl: string;
  readonly ingest: RawEventSink;
  readonly directory: BlueskyDidDirectory;
  readonly cursors: JetstreamCursorStore;
  readonly metrics: BlueskyMetrics;
  readonly logger: Logger;
  /** Our public base URL: status records pointing at our landing pages are our own write-back. */
  readonly publicUrl: string;
  readonly maxFrameBytes?: number;
  readonly rewindMs?: number;
  readonly cursorFlushMs?: number;
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * Reads Jetstream for the linked accounts' status and post commits and publishes each
 * relevant one durably on `live.raw.bluesky` (msg id from DID, collection, rkey and rev).
 * Every frame is size-capped, parsed and validated; the rest is ignored and counted. The
 * cursor (`time_us` of the last frame handled) goes to KV, throttled; a (re)connect resumes
 * a few seconds before it, and the msg ids make the overlap gapless without duplicates.
 * Reconnects back off exponentially with jitter. With no linked account it stays
 * disconnected: Jetstream without `wantedDids` would send the whole network.
 */
export class JetstreamConsumer {
  private socket: WebSocket | undefined;
  private dids: readonly string[] = [];
  private didSet = new Set<string>();
  private cursorUs: number | undefined;
  private flushedCursorUs: number | undefined;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private attempts = 0;
  private stopped = true;
  /** Frames are handled one at a time, in order: the cursor only moves past handled frames. */
  private queue: Promise<void> = Promise.resolve();
  private readonly failedSockets = new WeakSet<WebSocket>();
  /** The DID list each socket's filter was last set to. */
  private readonly socketDids = new WeakMap<WebSocket, readonly string[]>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly maxFrameBytes: number;

  constructor(private readonly options: JetstreamConsumerOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.maxFrameBytes = options.maxFrameBytes ?? JETSTREAM_DEFAULTS.maxFrameBytes;
  }

  /** The cursor in memory (`time_us`), possibly ahead of KV by up to the flush interval. */
  get cursor(): number | undefined {
    return this.cursorUs;
  }

  /** The DIDs asked for. */
  get wantedDids(): readonly string[] {
    return this.dids;
  }

  /** Resolves once every frame received so far is handled (published or counted). */
  async idle(): Promise<void> {
    await this.queue;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.cursorUs = await this.options.cursors.get();
    this.flushedCursorUs = this.cursorUs;
    this.dids = (await this.options.directory.linkedBlueskyDids()).slice(0, MAX_WANTED_DIDS);
    this.didSet = new Set(this.dids);
    this.connect();
  }

  /**
   * Reads the linked accounts again: a connected consumer changes Jetstream's filter with an
   * `options_update`; one with no accounts left disconnects; one that had none connects.
   */
  async refreshLinks(): Promise<void> {
    const dids = (await this.options.directory.linkedBlueskyDids()).slice(0, MAX_WANTED_DIDS);
    if (dids.length === this.dids.length && dids.every((did, index) => did === this.dids[index])) return;
    this.dids = dids;
    this.didSet = new Set(dids);
    if (this.stopped) return;
    if (dids.length === 0) {
      this.socket?.close(1000, 'no linked accounts');
      return;
    }
    if (this.socket?.readyState === WebSocket.OPEN) this.sendFilter(this.socket);
    else if (!this.socket && !this.reconnectTimer) this.connect();
    // A socket still connecting sends the new filter once open.
  }

  private sendFilter(socket: WebSocket): void {
    this.socketDids.set(socket, this.dids);
    socket.send(JSON.stringify({ type: 'options_update', payload: { wantedCollections: WANTED_COLLECTIONS, wantedDids: this.dids, maxMessageSizeBytes: this.maxFrameBytes } }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'stopping');
      const timeout = setTimeout(() => socket.terminate(), 2_000);
      await closed;
      clearTimeout(timeout);
    }
    await this.queue;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushCursor();
  }

  private subscribeUrl(): string {
    const url = new URL('/subscribe', this.options.jetstreamUrl);
    for (const collection of WANTED_COLLECTIONS) url.searchParams.append('wantedCollections', collection);
    for (const did of this.dids) url.searchParams.append('wantedDids', did);
    url.searchParams.set('maxMessageSizeBytes', String(this.maxFrameBytes));
    if (this.cursorUs !== undefined) {
      const rewindUs = (this.options.rewindMs ?? JETSTREAM_DEFAULTS.rewindMs) * 1000;
      url.searchParams.set('cursor', String(Math.max(1, this.cursorUs - rewindUs)));
    }
    return url.toString();
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.stopped || this.dids.length === 0 || this.socket) return;
    const socket = new WebSocket(this.subscribeUrl(), { maxPayload: this.maxFrameBytes * HARD_FRAME_LIMIT_FACTOR, handshakeTimeout: 10_000 });
    this.socket = socket;
    this.socketDids.set(socket, this.dids);
    let opened = false;
    socket.on('open', () => {
      opened = true;
      // Links changed while connecting: the URL's filter is already out of date.
      if (this.socketDids.get(socket) !== this.dids) this.sendFilter(socket);
      this.attempts = 0;
      this.options.metrics.connections.inc({ outcome: 'opened' });
      this.options.logger.info({ dids: this.dids.length, cursor: this.cursorUs }, 'jetstream connected');
    });
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      this.queue = this.queue.then(() => this.handleFrame(socket, bytes, isBinary));
    });
    socket.on('error', (error: Error) => {
      this.options.logger.warn({ err: error }, 'jetstream connection error');
    });
    socket.on('close', (code: number) => {
      if (this.socket === socket) this.socket = undefined;
      this.options.metrics.connections.inc({ outcome: opened ? 'closed' : 'failed' });
      if (!this.stopped) this.options.logger.info({ code }, 'jetstream disconnected');
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer || this.dids.length === 0) return;
    const initial = this.options.reconnectInitialMs ?? JETSTREAM_DEFAULTS.reconnectInitialMs;
    const max = this.options.reconnectMaxMs ?? JETSTREAM_DEFAULTS.reconnectMaxMs;
    const ceiling = Math.min(max, initial * 2 ** Math.min(this.attempts, 30));
    this.attempts += 1;
    // "Equal jitter": half fixed, half random, so clients spread out but never hammer.
    const delay = ceiling / 2 + this.random() * (ceiling / 2);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private async handleFrame(socket: WebSocket, bytes: Buffer, isBinary: boolean): Promise<void> {
    // After a failed publish, the rest of that connection's frames wait for the replay.
    if (this.failedSockets.has(socket)) return;
    const outcome = await this.classifyAndPublish(bytes, isBinary);
    this.options.metrics.frames.inc({ outcome });
    if (outcome === 'publish_failed') {
      // Nothing after this frame may move the cursor past it: reconnect from the cursor.
      this.failedSockets.add(socket);
      socket.terminate();
    }
  }

  private async classifyAndPublish(bytes: Buffer, isBinary: boolean): Promise<JetstreamFrameOutcome> {
    if (bytes.length > this.maxFrameBytes) return 'oversize';
    // Jetstream sends JSON text frames (zstd-compressed binary only when asked for with `compress`).
    if (isBinary) return 'malformed';
    const frame = bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(frame);
    } catch {
      return 'malformed';
    }
    const parsed = jetstreamEventSchema.safeParse(value);
    if (!parsed.success) return 'invalid';
    const event = parsed.data;
    if (event.time_us > (this.now() + JETSTREAM_DEFAULTS.maxFutureMs) * 1000) return 'invalid';
    if (event.kind !== 'commit') {
      this.advanceCursor(event.time_us);
      return 'other_kind';
    }
    let outcome: JetstreamFrameOutcome;
    if (!this.didSet.has(event.did)) outcome = 'unlinked';
    else if (!WANTED_COLLECTIONS.includes(event.commit.collection)) outcome = 'other_collection';
    else if (event.commit.collection === BLUESKY_COLLECTIONS.status && isOwnStatusRecord(event.commit.record, this.options.publicUrl)) outcome = 'own_status';
    else {
      try {
        const { duplicate } = await this.options.ingest.publish(toBlueskyRawEvent(frame, event, this.now()));
        outcome = duplicate ? 'duplicate' : 'published';
      } catch (error) {
        this.options.logger.warn({ err: error, did: event.did }, 'bluesky event not published; resuming from the cursor');
        return 'publish_failed';
      }
    }
    this.advanceCursor(event.time_us);
    return outcome;
  }

  private advanceCursor(timeUs: number): void {
    if (this.cursorUs !== undefined && timeUs <= this.cursorUs) return;
    this.cursorUs = timeUs;
    this.options.metrics.cursor.set(timeUs / 1e6);
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushCursor().catch((error: unknown) => this.options.logger.warn({ err: error }, 'jetstream cursor not saved'));
    }, this.options.cursorFlushMs ?? JETSTREAM_DEFAULTS.cursorFlushMs);
    this.flushTimer.unref();
  }

  private async flushCursor(): Promise<void> {
    const cursor = this.cursorUs;
    if (cursor === undefined || cursor === this.flushedCursorUs) return;
    await this.options.cursors.advance(cursor);
    this.flushedCursorUs = cursor;
  }
}
