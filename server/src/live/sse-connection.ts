import type { ServerResponse } from 'node:http';
import type { LiveMetadata } from '@live-upload/schema';
import type { LiveStatusHub } from './live-status-hub.js';
import { formatCursor, type SseCursor } from './sse-cursor.js';
import type { HeartbeatListener, SseHeartbeat } from './sse-heartbeat.js';
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
  private lastSingle: { event: string; channel: string; seq: number; serialized: string; bytes: Buffer } | undefined;

  /**
   * The frame of `record` for a connection that follows its channel alone, whose whole cursor
   * (the event id) is `channel=seq`: every such connection sends these bytes, so the id is not
   * even built per connection. Building and comparing it for each of 10,000 subscribers was
   * most of what a fan-out allocated beyond the bare broadcast's writes (issue 26: ~200 bytes
   * per subscriber per event with the cursor's iterator, enough to bring a young-generation
   * collection into the middle of the fan-out).
   */
  single(event: string, record: LiveMetadata, serialized: string): Buffer {
    const last = this.lastSingle;
    if (last?.serialized === serialized && last.seq === record.seq && last.channel === record.channel && last.event === event) return last.bytes;
    const bytes = Buffer.from(`event: ${event}\nid: ${record.channel}=${record.seq}\ndata: ${serialized}\n\n`, 'utf8');
    this.lastSingle = { event, channel: record.channel, seq: record.seq, serialized, bytes };
    return bytes;
  }

  bytes(event: string, id: string, serialized: string): Buffer {
    const last = this.last;
    if (last?.serialized === serialized && last.id === id && last.event === event) return last.bytes;
    this.last = { event, id, serialized, bytes: Buffer.from(`event: ${event}\nid: ${id}\ndata: ${serialized}\n\n`, 'utf8') };
    return this.last.bytes;
  }
}

/**
 * One open event stream: sends a snapshot (or the missed changes) per channel, then every
 * change, each event id being the connection's whole cursor. The process's one `SseHeartbeat`
 * keeps it talking: each write notes the heartbeat's epoch, and a stream that wrote nothing for
 * a while gets `: hb` so proxies keep it open.
 */
export class SseConnection implements HeartbeatListener {
  private readonly unlisten: Array<() => void> = [];
  private closed = false;
  /** The heartbeat epoch of the last write. */
  private wroteIn: number;

  constructor(
    private readonly response: ServerResponse,
    private readonly cursor: SseCursor,
    private readonly onClose: (connection: SseConnection) => void,
    private readonly frames: SseFrameCache,
    private readonly heartbeat: SseHeartbeat,
  ) {
    this.wroteIn = heartbeat.epoch;
    response.on('close', () => this.close());
  }

  /**
   * Replays what the client missed per channel, then follows live changes, and the channels'
   * replay progress when a relay is given (`vod-progress` events, without an id: they are not
   * replayed and do not move the cursor).
   */
  async start(hub: LiveStatusHub, channels: readonly string[], progress?: VodProgressRelay): Promise<void> {
    this.write('retry: 3000\n\n');
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
    this.heartbeat.add(this);
  }

  /** At a heartbeat tick: `: hb` when nothing went out in tick period `epoch` or since. */
  beatIfQuietSince(epoch: number): void {
    if (this.wroteIn < epoch) this.write(': hb\n\n');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat.remove(this);
    for (const unlisten of this.unlisten) unlisten();
    if (!this.response.writableEnded) this.response.end();
    this.onClose(this);
  }

  private send(event: string, record: LiveMetadata, serialized: string, force = false): void {
    const seen = this.cursor.get(record.channel);
    if (!force && seen !== undefined && record.seq <= seen) return;
    this.cursor.set(record.channel, record.seq);
    this.write(this.cursor.size === 1 ? this.frames.single(event, record, serialized) : this.frames.bytes(event, formatCursor(this.cursor), serialized));
  }

  private write(frame: string | Buffer): void {
    if (this.closed) return;
    this.wroteIn = this.heartbeat.epoch;
    this.response.write(frame);
    if (this.response.writableLength > MAX_BUFFERED_BYTES) this.close();
  }
}
