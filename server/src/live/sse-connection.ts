import type { ServerResponse } from 'node:http';
import type { LiveMetadata } from '@live-upload/schema';
import type { LiveStatusHub } from './live-status-hub.js';
import { formatCursor, type SseCursor } from './sse-cursor.js';
import { VOD_PROGRESS_EVENT, type VodProgressRelay } from './vod-progress-relay.js';

/** A slow client whose unsent buffer grows past this is dropped; it reconnects with its cursor. */
const MAX_BUFFERED_BYTES = 1 << 20;

export const SSE_EVENTS = { snapshot: 'snapshot', status: 'status', vodProgress: VOD_PROGRESS_EVENT } as const;

/**
 * The last frame built, encoded once: a change fans out to every connection following the
 * channel in one synchronous loop, and all connections with the same cursor (every
 * single-channel one) send the same bytes, so they share one Buffer instead of each building
 * and encoding its own copy of the record. One per live-events route, shared by its connections.
 */
export class SseFrameCache {
  private last: { event: string; id: string; serialized: string; bytes: Buffer } | undefined;

  bytes(event: string, id: string, serialized: string): Buffer {
    const last = this.last;
    if (last?.serialized === serialized && last.id === id && last.event === event) return last.bytes;
    this.last = { event, id, serialized, bytes: Buffer.from(`event: ${event}\nid: ${id}\ndata: ${serialized}\n\n`, 'utf8') };
    return this.last.bytes;
  }
}

/**
 * One open event stream: sends a snapshot (or the missed changes) per channel, then every
 * change, each event id being the connection's whole cursor; heartbeats keep proxies open.
 */
export class SseConnection {
  private readonly unlisten: Array<() => void> = [];
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly cursor: SseCursor,
    private readonly onClose: (connection: SseConnection) => void,
    private readonly frames: SseFrameCache,
  ) {
    response.on('close', () => this.close());
  }

  /**
   * Replays what the client missed per channel, then follows live changes, and the channels'
   * replay progress when a relay is given (`vod-progress` events, without an id: they are not
   * replayed and do not move the cursor).
   */
  async start(hub: LiveStatusHub, channels: readonly string[], heartbeatMs: number, progress?: VodProgressRelay): Promise<void> {
    this.response.write('retry: 3000\n\n');
    for (const channel of channels) {
      // Listen first so nothing emitted while the snapshot is read is lost; seq ordering dedupes.
      this.unlisten.push(hub.listen(channel, (record, serialized) => this.send(SSE_EVENTS.status, record, serialized)));
      if (progress) this.unlisten.push(progress.listen(channel, (frame) => this.write(frame)));
    }
    for (const channel of channels) {
      const known = this.cursor.get(channel);
      const missed = known === undefined ? undefined : hub.since(channel, known);
      if (missed) {
        for (const item of missed) this.send(SSE_EVENTS.status, item.record, item.serialized);
        continue;
      }
      const current = await hub.current(channel);
      if (current) {
        this.send(SSE_EVENTS.snapshot, current.record, current.serialized, true);
      } else {
        const placeholder = hub.placeholder(channel);
        this.send(SSE_EVENTS.snapshot, placeholder, JSON.stringify(placeholder), true);
      }
    }
    if (this.closed) return;
    this.heartbeat = setInterval(() => this.write(': hb\n\n'), heartbeatMs);
    this.heartbeat.unref?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const unlisten of this.unlisten) unlisten();
    if (!this.response.writableEnded) this.response.end();
    this.onClose(this);
  }

  private send(event: string, record: LiveMetadata, serialized: string, force = false): void {
    const seen = this.cursor.get(record.channel);
    if (!force && seen !== undefined && record.seq <= seen) return;
    this.cursor.set(record.channel, record.seq);
    this.write(this.frames.bytes(event, formatCursor(this.cursor), serialized));
  }

  private write(frame: string | Buffer): void {
    if (this.closed) return;
    this.response.write(frame);
    if (this.response.writableLength > MAX_BUFFERED_BYTES) this.close();
  }
}
