import { EventEmitter } from 'node:events';
import { parseCanonicalId, parseChannelRef, type LiveMetadata } from '@live-upload/schema';
import {
  BUCKETS,
  CONSUMERS,
  SKIP,
  STREAMS,
  decodeJson,
  jsonCodec,
  typedKv,
  type Bus,
  type BusMessage,
  type Consumer,
  type KvConflictCounter,
  type Subscription,
  type TypedKv,
} from '../bus/index.js';
import { DEFAULT_VOD_POLICY, type ChannelRegistry } from '../channels/index.js';
import { liveStatusOf } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import { ChannelStateStore } from '../pipeline/index.js';
import type { ObjectStore } from '../storage/index.js';
import { DEFAULT_INGEST_LIMITS, systemClock, type ArchiveEntry, type IngestClock, type IngestLimits, type IngestOutcome, type SourcePolicy } from '../vod-ingest/index.js';
import { VodStore, enqueueVodJob, type VodJob } from '../vod-jobs/index.js';
import { BroadcastCapture } from './broadcast-capture.js';
import { vodArchivePrefix } from '../vod-jobs/vod-files.js';
import { CAPTURE_STATES, captureKeyOf, captureRecordSchema, type CaptureRecord } from './capture-record.js';

export const VOD_CAPTURE_DEFAULTS = {
  /** A dead holder's broadcast passes to another replica within this (plus the clock skew). */
  leaseMs: 30_000,
  /** The holder's check that its broadcast is still live (the backstop for a missed OFFLINE). */
  checkEveryMs: 15_000,
  retryDelayMs: 5_000,
} as const;

export interface VodCaptureOptions {
  readonly bus: Bus;
  /** For each channel's VOD policy (`off`: nothing archived). */
  readonly channels: ChannelRegistry;
  /** The media store: archives go under `vod-archives/{publisher}/{slug}/{ulid}/`. */
  readonly media: ObjectStore;
  /** Who may be fetched: the outbound webhooks' SSRF policy (OUTBOUND_ALLOW_PRIVATE_HOSTS). */
  readonly source: SourcePolicy;
  readonly logger: Logger;
  readonly limits?: IngestLimits;
  /** The followers' clock (tests move it); leases and checks run on real time. */
  readonly clock?: IngestClock;
  readonly leaseMs?: number;
  readonly checkEveryMs?: number;
  readonly retryDelayMs?: number;
  readonly conflicts?: KvConflictCounter;
  readonly now?: () => number;
}

/** Why a LIVE record started no capture. */
export type CaptureSkipReason = 'policy-off' | 'no-channel' | 'not-current';

/** What the service reports: for logs, metrics and tests (who follows what, what was enqueued). */
export interface VodCaptureEvents {
  /** This process took a broadcast's lease and follows its playlist. */
  following: [event: { readonly canonical_id: string; readonly holder: string }];
  /** This process gave a broadcast's lease back (stopping, or lost it): the archive stays `following`. */
  'handed-over': [event: { readonly canonical_id: string; readonly holder: string }];
  /** A playlist load of a follower of this process. */
  refresh: [event: { readonly canonical_id: string; readonly holder: string }];
  /** An archive entry written by a follower of this process. */
  entry: [event: { readonly canonical_id: string; readonly entry: ArchiveEntry }];
  /** This process ended a broadcast's archive and enqueued its job. */
  enqueued: [event: { readonly canonical_id: string; readonly job: VodJob; readonly archive: IngestOutcome }];
  /** A capture record was written from a status record (`created` at LIVE, `ending` at OFFLINE). */
  recorded: [event: { readonly canonical_id: string; readonly state: CaptureRecord['state'] }];
  /** A LIVE record with an HLS URL started no capture, and why. */
  skipped: [event: { readonly canonical_id: string; readonly reason: CaptureSkipReason }];
}

/**
 * Server-side VOD capture (issue 21): every broadcast of a channel with `playback.hls` and a VOD
 * policy other than `off` is archived while LIVE and becomes a VOD job at its OFFLINE.
 *
 * Two halves, both on every replica:
 * - a durable consumer of `live.status.>` (shared: each status record is handled once in the
 *   fleet) turns a LIVE record into a capture record (`vod-captures` bucket, KV create: the
 *   first wins, so a URL changed mid-broadcast is not followed) and the canonical OFFLINE of
 *   that broadcast into `ending`. The pipeline sends OFFLINE only after the grace window, so a
 *   flap is one broadcast, one capture, one job. A LIVE record that is no longer the channel's
 *   current state (the consumer replaying history when first created) starts nothing.
 * - a watch of the bucket gives each capture record a `BroadcastCapture`, which contends for
 *   the broadcast's lease: exactly one replica follows; when it stops, another resumes the
 *   archive from its manifest; the holder finishes an `ending` one (enqueue, delete).
 *
 * A broadcast of our own origin (issue 23; its player set by the `origin` provider) is not
 * followed over HTTP: its ladder is in the media store already. Its capture record names the
 * ladder's prefix, and its OFFLINE enqueues an `origin-ladder` job (the replay copies the rungs,
 * no second transcode), or removes the ladder when the channel's VOD policy is `off`.
 */
export class VodCapture extends EventEmitter<VodCaptureEvents> {
  private consumer: Consumer | undefined;
  private watch: Subscription | undefined;
  private readonly running = new Map<string, BroadcastCapture>();
  private started = false;
  /** Bucket changes, applied one at a time in order. */
  private applying: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  private constructor(
    private readonly options: VodCaptureOptions,
    private readonly captures: TypedKv<CaptureRecord>,
    private readonly states: ChannelStateStore,
    private readonly vods: VodStore,
  ) {
    super();
    this.now = options.now ?? Date.now;
  }

  static async open(options: VodCaptureOptions): Promise<VodCapture> {
    const conflicts = options.conflicts ? { conflicts: options.conflicts } : {};
    const captures = typedKv(await options.bus.kv(BUCKETS.vodCaptures), jsonCodec(captureRecordSchema), conflicts);
    return new VodCapture(options, captures, await ChannelStateStore.open(options.bus, conflicts), await VodStore.open(options.bus, conflicts));
  }

  /** Broadcasts this process follows now (holds the lease of). */
  get following(): string[] {
    return [...this.running.values()].filter((capture) => capture.isHolder).map((capture) => capture.canonicalId);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const bucket = this.captures.bucket;
    // Watch first, then list: a record written in between is seen by one or the other.
    this.watch = await bucket.watch((event) => {
      this.apply(event.key, event.value === undefined ? undefined : this.decode(event.value));
    });
    for (const key of await bucket.keys()) {
      const entry = await this.captures.get(key).catch(() => undefined);
      this.apply(key, entry?.value);
    }
    this.consumer = await this.options.bus.consume(
      { stream: STREAMS.liveStatus.name, durable: CONSUMERS.vodCapture, ackWaitMs: 60_000, maxAckPending: 64 },
      (message) => this.handleStatus(message),
    );
  }

  /** Stops taking status records, then gives back every lease (each archive left `following` for another replica). */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.consumer?.stop();
    this.consumer = undefined;
    this.watch?.unsubscribe();
    this.watch = undefined;
    await this.applying;
    const captures = [...this.running.values()];
    this.running.clear();
    await Promise.all(captures.map((capture) => capture.stop()));
  }

  private decode(data: Uint8Array): CaptureRecord | undefined {
    try {
      return decodeJson(data, captureRecordSchema);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'malformed VOD capture record ignored');
      return undefined;
    }
  }

  /** A capture record appeared, changed or went: start, update or stop its `BroadcastCapture`. */
  private apply(key: string, record: CaptureRecord | undefined): void {
    this.applying = this.applying.then(async () => {
      if (!this.started) return;
      const existing = this.running.get(key);
      if (!record) {
        if (!existing) return;
        this.running.delete(key);
        await existing.stop();
        return;
      }
      if (existing) {
        existing.update(record);
        return;
      }
      // Our own origin's broadcast: its ladder is in the store already; nothing to follow.
      if (record.origin_prefix !== undefined) return;
      const capture = new BroadcastCapture(record, {
        bus: this.options.bus,
        captures: this.captures,
        vods: this.vods,
        media: this.options.media,
        source: this.options.source,
        limits: this.options.limits ?? DEFAULT_INGEST_LIMITS,
        clock: this.options.clock ?? systemClock,
        leaseMs: this.options.leaseMs ?? VOD_CAPTURE_DEFAULTS.leaseMs,
        checkEveryMs: this.options.checkEveryMs ?? VOD_CAPTURE_DEFAULTS.checkEveryMs,
        retryDelayMs: this.options.retryDelayMs ?? VOD_CAPTURE_DEFAULTS.retryDelayMs,
        isStillLive: (current) => this.isStillLive(current),
        logger: this.options.logger.child({ canonical_id: record.canonical_id }),
        now: this.now,
        events: {
          following: (canonicalId, holder) => this.emit('following', { canonical_id: canonicalId, holder }),
          handedOver: (canonicalId, holder) => this.emit('handed-over', { canonical_id: canonicalId, holder }),
          refresh: (canonicalId, holder) => this.emit('refresh', { canonical_id: canonicalId, holder }),
          entry: (canonicalId, entry) => this.emit('entry', { canonical_id: canonicalId, entry }),
          enqueued: (canonicalId, job, archive) => this.emit('enqueued', { canonical_id: canonicalId, job, archive }),
        },
      });
      this.running.set(key, capture);
      // Not awaited: a lease round on a slow bus must not hold up the other records.
      capture.start().catch((error: unknown) => this.options.logger.warn({ err: error, canonical_id: record.canonical_id }, 'VOD capture lease not started'));
    });
  }

  private async handleStatus(message: BusMessage): Promise<void> {
    const record = liveStatusOf(message, this.options.logger, 'no VOD capture');
    if (!record) return;
    const canonicalId = record.canonical_id;
    if (canonicalId === null || !parseCanonicalId(canonicalId)) return;
    if (record.status === 'live' && record.playback?.hls) await this.onLive(record, canonicalId, record.playback.hls);
    else if (record.status === 'offline') await this.onOffline(record, canonicalId);
  }

  private async onLive(record: LiveMetadata, canonicalId: string, url: string): Promise<void> {
    const ref = parseChannelRef(record.channel);
    if (!ref) return;
    // Most LIVE records are updates of a broadcast already captured (title, viewers): one read settles them.
    if (await this.captures.get(captureKeyOf(canonicalId))) return;
    // Only the channel's current broadcast: a replayed LIVE of one long over must not start a capture.
    const current = (await this.states.get(record.channel))?.record;
    if (!current || current.status !== 'live' || current.canonical_id !== canonicalId) {
      this.emit('skipped', { canonical_id: canonicalId, reason: 'not-current' });
      return;
    }
    const config = await this.options.channels.get(ref);
    if (!config) {
      this.emit('skipped', { canonical_id: canonicalId, reason: 'no-channel' });
      return;
    }
    // Our origin's ladder is recorded whatever the policy: its end removes it (policy off) or makes the replay of it.
    const originPrefix = originLadderPrefixOf(record);
    if ((config.vod ?? DEFAULT_VOD_POLICY) === 'off' && !originPrefix) {
      this.emit('skipped', { canonical_id: canonicalId, reason: 'policy-off' });
      return;
    }
    const nowIso = new Date(this.now()).toISOString();
    const capture: CaptureRecord = {
      canonical_id: canonicalId,
      channel: record.channel,
      url,
      archive_prefix: vodArchivePrefix(canonicalId),
      ...(originPrefix ? { origin_prefix: originPrefix } : {}),
      state: CAPTURE_STATES.following,
      started_at: record.started_at ?? new Date(parseCanonicalId(canonicalId)!.startedAtMs).toISOString(),
      ...(record.title ? { title: record.title } : {}),
      updated_at: nowIso,
    };
    // Create only: a later LIVE record of the same broadcast (a title change, a new URL) changes nothing.
    const result = await this.captures.update(captureKeyOf(canonicalId), (current) => (current ? SKIP : capture));
    if (result.outcome !== 'created') return;
    this.emit('recorded', { canonical_id: canonicalId, state: CAPTURE_STATES.following });
  }

  private async onOffline(record: LiveMetadata, canonicalId: string): Promise<void> {
    const nowIso = new Date(this.now()).toISOString();
    const key = captureKeyOf(canonicalId);
    const existing = await this.captures.get(key);
    if (existing?.value.origin_prefix !== undefined) {
      await this.enqueueOriginReplay(existing.value, existing.value.origin_prefix, record, nowIso);
      return;
    }
    const result = await this.captures.update(captureKeyOf(canonicalId), (current) =>
      current?.state === CAPTURE_STATES.following
        ? {
            ...current,
            state: CAPTURE_STATES.ending,
            ended_at: record.ended_at ?? nowIso,
            ...(record.title ? { title: record.title } : {}),
            updated_at: nowIso,
          }
        : SKIP,
    );
    if (result.outcome === 'updated') this.emit('recorded', { canonical_id: canonicalId, state: CAPTURE_STATES.ending });
  }

  /**
   * The end of a broadcast of our own origin: its replay is made from the ladder already in the
   * store (an `origin-ladder` job, no HLS followed, no second transcode). Enqueued here, then the
   * capture record goes; a redelivered OFFLINE enqueues again, a duplicate the bus drops. A
   * channel whose VOD policy is `off` by then gets no replay, and its live ladder is removed.
   */
  private async enqueueOriginReplay(capture: CaptureRecord, prefix: string, record: LiveMetadata, nowIso: string): Promise<void> {
    const ref = parseChannelRef(capture.channel);
    const config = ref ? await this.options.channels.get(ref) : undefined;
    if (!config || (config.vod ?? DEFAULT_VOD_POLICY) === 'off') {
      // No replay wanted (the policy when the broadcast ended): the live ladder has no further use.
      await this.options.media.deletePrefix(prefix);
      await this.captures.update(captureKeyOf(capture.canonical_id), (stored) => (stored?.canonical_id === capture.canonical_id ? undefined : SKIP));
      this.emit('skipped', { canonical_id: capture.canonical_id, reason: config ? 'policy-off' : 'no-channel' });
      return;
    }
    const title = record.title ?? capture.title;
    const job: VodJob = {
      canonical_id: capture.canonical_id,
      channel: capture.channel,
      source: { kind: 'origin-ladder', prefix },
      started_at: capture.started_at,
      ended_at: record.ended_at ?? nowIso,
      ...(title ? { title: title.slice(0, 300) } : {}),
      requested_at: nowIso,
    };
    await enqueueVodJob(this.options.bus, job, { vods: this.vods, now: this.now });
    await this.captures.update(captureKeyOf(capture.canonical_id), (stored) => (stored?.canonical_id === capture.canonical_id ? undefined : SKIP));
    this.emit('recorded', { canonical_id: capture.canonical_id, state: CAPTURE_STATES.ending });
  }

  /** Whether a capture's broadcast is still its channel's live one (what the pipeline holds now). */
  private async isStillLive(capture: CaptureRecord): Promise<{ live: true } | { live: false; ended_at?: string; title?: string }> {
    const current = (await this.states.get(capture.channel))?.record;
    if (current?.status === 'live' && current.canonical_id === capture.canonical_id) return { live: true };
    if (current?.canonical_id === capture.canonical_id) {
      return { live: false, ...(current.ended_at ? { ended_at: current.ended_at } : {}), ...(current.title ? { title: current.title } : {}) };
    }
    return { live: false };
  }
}

/**
 * The media-store prefix of a LIVE record's broadcast when our own origin serves it (issue 23):
 * the pipeline set its player from the origin (`sources.playback` is `origin`) and the URL is the
 * origin's `/origin/{publisher}/{slug}/{session_id}/master.m3u8`. Undefined for any other player.
 */
export function originLadderPrefixOf(record: LiveMetadata): string | undefined {
  if (record.sources['playback']?.provider !== 'origin' || !record.playback) return undefined;
  let path: string;
  try {
    path = new URL(record.playback.hls).pathname;
  } catch {
    return undefined;
  }
  const match = /^\/origin\/([a-z0-9][a-z0-9-]{0,38})\/([a-z0-9][a-z0-9-]{0,38})\/([0-9A-HJKMNP-TV-Z]{26})\/master\.m3u8$/.exec(path);
  if (!match || `${match[1]}/${match[2]}` !== record.channel) return undefined;
  return `origin/${match[1]}/${match[2]}/${match[3]}/`;
}
