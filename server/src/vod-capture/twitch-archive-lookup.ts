import { parseCanonicalId, type LiveMetadata } from '@live-upload/schema';
import { z } from 'zod';
import { BUCKETS, CONSUMERS, SKIP, STREAMS, jsonCodec, typedKv, type Bus, type BusMessage, type Consumer, type KvConflictCounter, type TypedKv } from '../bus/index.js';
import { liveStatusOf } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import { parseTwitchDuration, type HelixVideo } from '../providers/twitch/index.js';
import { VodStore, twitchArchiveSchema, vodRecordKey, type TwitchArchive, type VodRecord } from '../vod-jobs/index.js';

/** Durable consumer of `live.status.>` shared by every replica: each status record is handled once in the fleet. */
export const TWITCH_ARCHIVE_LOOKUP_CONSUMER = CONSUMERS.twitchArchiveLookup;
/**
 * Per broadcast (`{publisher}.{slug}.{ulid}`): the Twitch user and the Twitch stream ids its LIVE
 * records named. Kept because the canonical OFFLINE record no longer names them (the pipeline
 * clears a provider link's stream id when that provider goes offline). Entries expire.
 */
export const TWITCH_BROADCASTS_BUCKET = BUCKETS.twitchBroadcasts;

export const TWITCH_ARCHIVE_LOOKUP_DEFAULTS = {
  /** Waits before the 2nd, 3rd... look-up: Twitch may publish the archive a little after the stream ends. */
  retryDelaysMs: [30_000, 90_000] as readonly number[],
  /** Archives asked for per look-up (the newest; the broadcast just ended). */
  first: 20,
  /** An OFFLINE record of a broadcast that ended longer ago than this (old history replayed) is not looked up. */
  maxAgeMs: 6 * 3600 * 1000,
  /** An OFFLINE of a Twitch-linked channel with no stream ids yet is offered again after this, once. */
  settleMs: 2_000,
  /** How long a broadcast's Twitch stream ids are kept without its OFFLINE. */
  entryTtlMs: 7 * 24 * 3600 * 1000,
} as const;

const MAX_STREAM_IDS = 20;

const twitchBroadcastSchema = z.strictObject({
  canonical_id: z.string(),
  user_id: z.string().regex(/^\d{1,20}$/),
  stream_ids: z.array(z.string().min(1).max(40)).max(MAX_STREAM_IDS),
});
type TwitchBroadcast = z.infer<typeof twitchBroadcastSchema>;

/** The part of Helix this service calls (`HelixClient` in production). */
export interface ArchiveVideoSource {
  getArchiveVideos(userId: string, query?: { readonly first?: number; readonly pages?: number }): Promise<HelixVideo[]>;
}

export interface TwitchArchiveLookupOptions {
  readonly bus: Bus;
  readonly helix: ArchiveVideoSource;
  /**
   * Whether the channel keeps replays (its `vod` policy is not `off`). A broadcast of a channel
   * that keeps none gets no `external` record; one that has a record already gets the archive
   * attached (its policy hides it anyway). Default: every channel keeps them.
   */
  readonly keepsReplays?: (channel: string) => Promise<boolean>;
  readonly logger: Logger;
  readonly retryDelaysMs?: readonly number[];
  readonly maxAgeMs?: number;
  readonly conflicts?: KvConflictCounter;
  readonly now?: () => number;
  /** Waits between look-ups; rejects when `signal` aborts (the service stopping). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** What one broadcast's look-up came to. */
export type TwitchArchiveOutcome = 'attached' | 'no-match' | 'failed';

/**
 * Links a broadcast's Twitch past-broadcast archive to its replay record (issue 21, Sources:
 * Twitch). Needs Helix credentials (the app token); started only when they are configured.
 *
 * A durable consumer of `live.status.>`, shared across replicas:
 * - a LIVE record naming a Twitch stream (`providers.twitch.id`) adds that id to the broadcast's
 *   entry in `twitch-broadcasts`;
 * - the canonical OFFLINE of a broadcast with an entry asks Helix Get Videos for the user's
 *   newest archives and takes the one whose `stream_id` is one of the broadcast's Twitch streams.
 *   Not there yet: asked again after each of `retryDelaysMs` (Twitch may publish it a little
 *   later); a Helix error counts as a try. Then the entry is deleted and the message acked:
 *   nothing found is logged, never retried forever.
 *
 * The archive goes into the broadcast's `VodRecord` as `twitch_archive`. A broadcast with no
 * record (a channel without an HLS source has no VOD job) gets one in state `external`: its
 * replay is on Twitch only. A job of the same broadcast arriving later still runs and keeps the
 * field. A replica stopping mid-wait naks the OFFLINE: another replica looks it up again.
 */
export class TwitchArchiveLookup {
  private consumer: Consumer | undefined;
  private stopping = new AbortController();
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Outcomes of this process's look-ups, for tests and logs. */
  readonly outcomes: { readonly canonical_id: string; readonly outcome: TwitchArchiveOutcome }[] = [];

  private constructor(
    private readonly options: TwitchArchiveLookupOptions,
    private readonly broadcasts: TypedKv<TwitchBroadcast>,
    private readonly vods: VodStore,
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
  }

  static async open(options: TwitchArchiveLookupOptions): Promise<TwitchArchiveLookup> {
    const conflicts = options.conflicts ? { conflicts: options.conflicts } : {};
    const bucket = await options.bus.kv(TWITCH_BROADCASTS_BUCKET, { ttlMs: TWITCH_ARCHIVE_LOOKUP_DEFAULTS.entryTtlMs });
    return new TwitchArchiveLookup(options, typedKv(bucket, jsonCodec(twitchBroadcastSchema), conflicts), await VodStore.open(options.bus, conflicts));
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    this.stopping = new AbortController();
    const retries = this.options.retryDelaysMs ?? TWITCH_ARCHIVE_LOOKUP_DEFAULTS.retryDelaysMs;
    const waitMs = retries.reduce((sum, ms) => sum + ms, 0);
    this.consumer = await this.options.bus.consume(
      { stream: STREAMS.liveStatus.name, durable: TWITCH_ARCHIVE_LOOKUP_CONSUMER, ackWaitMs: waitMs + 60_000, maxAckPending: 64 },
      (message) => this.handleStatus(message),
    );
  }

  /** Interrupts the waits (their OFFLINE records go back for another replica), then stops the consumer. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer?.stop();
    this.consumer = undefined;
  }

  private async handleStatus(message: BusMessage): Promise<void> {
    const record = liveStatusOf(message, this.options.logger, 'no Twitch archive lookup');
    if (!record) return;
    const canonicalId = record.canonical_id;
    if (canonicalId === null || !parseCanonicalId(canonicalId)) return;
    const twitch = record.providers.twitch;
    if (record.status === 'live' && twitch?.id) await this.remember(canonicalId, twitch.user_id, twitch.id);
    else if (record.status === 'offline') await this.onOffline(record, canonicalId, message);
  }

  private async remember(canonicalId: string, userId: string, streamId: string): Promise<void> {
    if (!/^\d{1,20}$/.test(userId) || streamId.length > 40) return;
    await this.broadcasts.update(vodRecordKey(canonicalId), (current) => {
      if (current?.stream_ids.includes(streamId) || (current && current.stream_ids.length >= MAX_STREAM_IDS)) return SKIP;
      return { canonical_id: canonicalId, user_id: userId, stream_ids: [...(current?.stream_ids ?? []), streamId] };
    });
  }

  private async onOffline(record: LiveMetadata, canonicalId: string, message: BusMessage): Promise<void> {
    const key = vodRecordKey(canonicalId);
    const broadcast = (await this.broadcasts.get(key))?.value;
    if (!broadcast) {
      // Status records are handled concurrently: the broadcast's last LIVE may still be landing. Once more, a little later.
      if (record.providers.twitch && message.deliveryCount < 2) message.nak(TWITCH_ARCHIVE_LOOKUP_DEFAULTS.settleMs);
      return;
    }
    const endedMs = record.ended_at ? Date.parse(record.ended_at) : this.now();
    if (this.now() - endedMs > (this.options.maxAgeMs ?? TWITCH_ARCHIVE_LOOKUP_DEFAULTS.maxAgeMs)) {
      await this.broadcasts.bucket.delete(key);
      return;
    }
    const log = this.options.logger.child({ canonical_id: canonicalId, twitch_user_id: broadcast.user_id });
    const delays = this.options.retryDelaysMs ?? TWITCH_ARCHIVE_LOOKUP_DEFAULTS.retryDelaysMs;
    let archive: TwitchArchive | undefined;
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        archive = await this.lookUp(broadcast, log);
        lastError = undefined;
      } catch (error) {
        lastError = error;
        log.warn({ err: error, attempt: attempt + 1 }, 'Twitch archive look-up failed');
      }
      if (archive || attempt >= delays.length) break;
      try {
        await this.sleep(delays[attempt]!, this.stopping.signal);
      } catch {
        // Stopping: another replica takes the OFFLINE record over.
        message.nak();
        return;
      }
    }
    if (archive) {
      await this.attach(record, canonicalId, archive);
      log.info({ twitch_video_id: archive.id }, 'Twitch archive linked to the broadcast');
    } else if (lastError !== undefined) {
      log.error({ err: lastError }, 'Twitch archive not looked up: Helix kept failing');
    } else {
      log.info({ stream_ids: broadcast.stream_ids }, 'no Twitch archive for the broadcast');
    }
    this.outcomes.push({ canonical_id: canonicalId, outcome: archive ? 'attached' : lastError !== undefined ? 'failed' : 'no-match' });
    await this.broadcasts.bucket.delete(key);
  }

  /** The user's newest archive recorded from one of the broadcast's Twitch streams, if Helix lists it. */
  private async lookUp(broadcast: TwitchBroadcast, log: Logger): Promise<TwitchArchive | undefined> {
    const videos = await this.options.helix.getArchiveVideos(broadcast.user_id, { first: TWITCH_ARCHIVE_LOOKUP_DEFAULTS.first });
    for (const video of videos) {
      if (video.type !== 'archive' || video.stream_id === null || !broadcast.stream_ids.includes(video.stream_id)) continue;
      const archive = toTwitchArchive(video);
      if (archive) return archive;
      log.warn({ twitch_video_id: video.id, duration: video.duration.slice(0, 40) }, 'Twitch archive refused: not what Helix documents');
    }
    return undefined;
  }

  private async attach(record: LiveMetadata, canonicalId: string, archive: TwitchArchive): Promise<void> {
    const nowIso = new Date(this.now()).toISOString();
    const keeps = this.options.keepsReplays ? await this.options.keepsReplays(record.channel) : true;
    await this.vods.update(canonicalId, (current): VodRecord | typeof SKIP => {
      if (current) return current.twitch_archive?.id === archive.id ? SKIP : { ...current, twitch_archive: archive, updated_at: nowIso };
      if (!keeps) return SKIP;
      return {
        canonical_id: canonicalId,
        channel: record.channel,
        state: 'external',
        started_at: record.started_at ?? new Date(parseCanonicalId(canonicalId)!.startedAtMs).toISOString(),
        ...(record.ended_at ? { ended_at: record.ended_at } : {}),
        ...(record.title ? { title: record.title.slice(0, 300) } : {}),
        duration_s: archive.duration_s,
        twitch_archive: archive,
        updated_at: nowIso,
      };
    });
  }
}

/** A Helix archive as we store it, or undefined when a field is not what Twitch documents. */
export function toTwitchArchive(video: HelixVideo): TwitchArchive | undefined {
  const durationS = parseTwitchDuration(video.duration);
  if (durationS === undefined) return undefined;
  const parsed = twitchArchiveSchema.safeParse({
    id: video.id,
    url: video.url,
    duration_s: durationS,
    thumbnail_url: video.thumbnail_url,
    title: video.title.slice(0, 300),
    created_at: video.created_at,
  });
  return parsed.success ? parsed.data : undefined;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
