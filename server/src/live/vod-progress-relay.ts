import { formatChannelRef, isCanonicalId, parseCanonicalId } from '@live-upload/schema';
import { z } from 'zod';
import { SUBJECTS, decodeJson, type Bus, type Subscription } from '../bus/index.js';
import type { Logger } from '../observability/index.js';
import { VOD_STATES } from '../vod-jobs/vod-record.js';

/** The SSE event name of a replay's transcode progress. */
export const VOD_PROGRESS_EVENT = 'vod-progress';

/**
 * What the VOD worker publishes on `vod.progress.{publisher}.{slug}` (`VodProgressEvent`), as
 * relayed: these fields only, so a field added for workers is not sent to browsers unseen.
 */
export const vodProgressMessageSchema = z.object({
  canonical_id: z.string().refine(isCanonicalId, 'must be stream:{publisher}:{slug}:{ulid}'),
  state: z.enum(VOD_STATES),
  percent: z.number().min(0).max(100).optional(),
  speed: z.number().nonnegative().optional(),
  at: z.iso.datetime(),
});
export type VodProgressMessage = z.infer<typeof vodProgressMessageSchema>;

/** Receives one encoded SSE frame (`event: vod-progress`, no `id`), shared by every listener. */
export type VodProgressListener = (frame: Buffer) => void;

/**
 * Relays the VOD worker's progress events to the live-events stream of their channel: one
 * subscription to `vod.progress.>` per process, each event checked, serialized and encoded
 * once, and handed to the connections following its channel. Nothing is kept: progress is
 * throttled and superseded by the next event, so a client that connects (or reconnects) later
 * gets the next one, and the admin API has the record's progress. The frame has no `id:`, so
 * a client's `Last-Event-ID` stays its status cursor.
 */
export class VodProgressRelay {
  private readonly listeners = new Map<string, Set<VodProgressListener>>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.subscription ??= this.bus.subscribe(SUBJECTS.vodProgressAll, (subject, data) => {
      try {
        this.accept(subject, decodeJson(data, vodProgressMessageSchema));
      } catch (error) {
        this.logger.warn({ err: error, subject }, 'dropped a malformed vod progress message');
      }
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Follows one channel's replay progress; call the answer to stop. */
  listen(channel: string, listener: VodProgressListener): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(channel) === set) this.listeners.delete(channel);
    };
  }

  /** Channels someone follows now. */
  get followedChannels(): number {
    return this.listeners.size;
  }

  /**
   * Hands one event to its channel's listeners. The channel is the canonical id's; an event
   * published under another channel's subject is dropped (never shown on a channel it is not of).
   */
  accept(subject: string, message: VodProgressMessage): void {
    const id = parseCanonicalId(message.canonical_id);
    if (!id) return;
    const channel = formatChannelRef(id);
    if (subject !== SUBJECTS.vodProgress(id)) {
      this.logger.warn({ subject, canonical_id: message.canonical_id }, 'dropped a vod progress message under another channel');
      return;
    }
    const set = this.listeners.get(channel);
    if (!set || set.size === 0) return;
    const { canonical_id, state, percent, speed, at } = message;
    const data = JSON.stringify({ canonical_id, state, ...(percent !== undefined ? { percent } : {}), ...(speed !== undefined ? { speed } : {}), at });
    const frame = Buffer.from(`event: ${VOD_PROGRESS_EVENT}\ndata: ${data}\n\n`, 'utf8');
    for (const listener of set) listener(frame);
  }
}
