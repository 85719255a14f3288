import { BusLease, SKIP, type Bus, type TypedKv } from '../bus/index.js';
import type { Logger } from '../observability/index.js';
import type { ObjectStore } from '../storage/index.js';
import { ArchiveSink, HlsFollower, SegmentFetcher, type ArchiveEntry, type IngestClock, type IngestLimits, type IngestOutcome, type SourcePolicy } from '../vod-ingest/index.js';
import { enqueueVodJob, type VodJob, type VodStore } from '../vod-jobs/index.js';
import { CAPTURE_STATES, captureKeyOf, captureLeaseKeyOf, type CaptureRecord } from './capture-record.js';
import { FencedObjectStore, FencedWriteError } from './fenced-object-store.js';

/** What every broadcast capture of one service shares. */
export interface BroadcastCaptureDeps {
  readonly bus: Bus;
  readonly captures: TypedKv<CaptureRecord>;
  readonly vods: VodStore;
  readonly media: ObjectStore;
  readonly source: SourcePolicy;
  readonly limits: IngestLimits;
  readonly clock: IngestClock;
  readonly leaseMs: number;
  /** While following: how often the holder checks that the broadcast is still its channel's live one. */
  readonly checkEveryMs: number;
  /** A follower that failed on the store (not the source), or a finish that failed: tried again after this. */
  readonly retryDelayMs: number;
  /** The broadcast's canonical record as the pipeline holds it now (undefined: the channel has none). */
  readonly isStillLive: (record: CaptureRecord) => Promise<{ live: true } | { live: false; ended_at?: string; title?: string }>;
  readonly logger: Logger;
  readonly now: () => number;
  readonly events: BroadcastCaptureEvents;
}

/** What a capture tells its service (for logs, metrics and tests). */
export interface BroadcastCaptureEvents {
  following(canonicalId: string, holder: string): void;
  handedOver(canonicalId: string, holder: string): void;
  refresh(canonicalId: string, holder: string): void;
  entry(canonicalId: string, entry: ArchiveEntry): void;
  enqueued(canonicalId: string, job: VodJob, outcome: IngestOutcome): void;
}

/**
 * One broadcast's capture on one replica: it contends for the broadcast's `BusLease`, and while
 * it holds it, follows the HLS playlist into the archive (`HlsFollower`, resuming the manifest a
 * previous holder left). Losing or giving back the lease fences the store first (the archive is
 * left `following`, for the next holder). When the record turns `ending`, the holder stops the
 * follower (the archive ends `stop`), enqueues the VOD job and deletes the record. A holder that
 * takes over an `ending` record (its previous holder died mid-way) ends the archive as it is
 * and enqueues; a repeated enqueue is a duplicate the bus drops.
 */
export class BroadcastCapture {
  readonly canonicalId: string;
  private record: CaptureRecord;
  private lease: BusLease | undefined;
  private holding = false;
  private stopped = false;
  /** Work on this capture, one step at a time (take over, hand over, finish). */
  private work: Promise<void> = Promise.resolve();
  private follower: { follower: HlsFollower; store: FencedObjectStore; fetcher: SegmentFetcher; run: Promise<IngestOutcome | undefined> } | undefined;
  private checkTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private finishing = false;
  /** The job is enqueued and the record deleted: nothing more to do here. */
  private finished = false;

  constructor(
    record: CaptureRecord,
    private readonly deps: BroadcastCaptureDeps,
  ) {
    this.canonicalId = record.canonical_id;
    this.record = record;
  }

  /** Starts contending for the lease (resolves after the first round: `isHolder` is then known). */
  async start(): Promise<void> {
    this.lease = await BusLease.open(this.deps.bus, {
      key: captureLeaseKeyOf(this.canonicalId),
      leaseMs: this.deps.leaseMs,
      logger: this.deps.logger,
      onChange: (held) => this.enqueue(() => (held ? this.takeOver() : this.handOver())),
    });
    if (this.stopped) return;
    await this.lease.start();
  }

  get isHolder(): boolean {
    return this.holding;
  }

  /** The record changed (from the bucket's watch): an `ending` one is finished by the holder. */
  update(record: CaptureRecord): void {
    this.record = record;
    if (record.state === CAPTURE_STATES.ending && this.holding) void this.enqueue(() => this.finish());
  }

  /** Stops here: the lease given back after the follower is fenced (another replica resumes, if the record is still there). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.checkTimer);
    clearTimeout(this.retryTimer);
    await this.lease?.stop();
    await this.work;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.work.then(step).catch((error: unknown) => {
      this.deps.logger.error({ err: error, canonical_id: this.canonicalId }, 'VOD capture step failed');
    });
    this.work = next;
    return next;
  }

  private async takeOver(): Promise<void> {
    this.holding = true;
    const holder = this.lease!.holder;
    this.deps.logger.info({ canonical_id: this.canonicalId, holder, state: this.record.state }, 'VOD capture taken: this process archives the broadcast');
    if (this.record.state === CAPTURE_STATES.ending) {
      await this.finish();
      return;
    }
    await this.startFollowing();
    this.deps.events.following(this.canonicalId, holder);
    this.scheduleCheck();
  }

  private async handOver(): Promise<void> {
    const wasHolding = this.holding;
    this.holding = false;
    clearTimeout(this.checkTimer);
    clearTimeout(this.retryTimer);
    const current = this.follower;
    this.follower = undefined;
    if (current) {
      // Fenced at once (no write from here on), then the follower stopped (a download in flight
      // aborted, its `ended` refused), then the writes already under way waited for.
      const drained = current.store.fence();
      await current.follower.stop().catch(() => undefined);
      await drained;
      await current.run;
      current.fetcher.close();
    }
    // After the finish the lease is given back with nothing left to hand over.
    if (wasHolding && !this.finished) {
      this.deps.logger.info({ canonical_id: this.canonicalId }, 'VOD capture handed over: the archive is left following for the next holder');
      this.deps.events.handedOver(this.canonicalId, this.lease!.holder);
    }
  }

  private async startFollowing(): Promise<void> {
    if (this.follower || !this.holding || this.finishing) return;
    const { deps, record } = this;
    const store = new FencedObjectStore(deps.media);
    const fetcher = new SegmentFetcher({ limits: deps.limits, clock: deps.clock, ...deps.source });
    let sink: ArchiveSink;
    try {
      sink = await ArchiveSink.open(store, record.archive_prefix, { kind: 'live', source: record.url }, { clock: deps.clock });
    } catch (error) {
      fetcher.close();
      this.retryLater(error);
      return;
    }
    const follower = new HlsFollower({ url: record.url, sink, fetcher, clock: deps.clock });
    const holder = this.lease!.holder;
    follower.on('refresh', () => deps.events.refresh(this.canonicalId, holder));
    follower.on('entry', (entry) => deps.events.entry(this.canonicalId, entry));
    const run = follower.run().then(
      (outcome) => {
        // ENDLIST (the origin ended its stream) or a hostile source: the archive is done; the job waits for OFFLINE.
        deps.logger.info({ canonical_id: this.canonicalId, state: outcome.state, ended_by: outcome.endedBy, failure: outcome.failure, segments: outcome.totals.segments }, 'VOD capture follower ended');
        return outcome;
      },
      (error: unknown) => {
        if (error instanceof FencedWriteError || store.isFenced) return undefined;
        // The store failed (the manifest stays `following`): follow again after a pause, resuming it.
        if (this.follower?.follower === follower) {
          this.follower = undefined;
          fetcher.close();
          this.retryLater(error);
        }
        return undefined;
      },
    );
    this.follower = { follower, store, fetcher, run };
  }

  private retryLater(error: unknown): void {
    this.deps.logger.warn({ err: error, canonical_id: this.canonicalId }, 'VOD capture failed on the store; trying again');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.holding || this.stopped) return;
      void this.enqueue(() => (this.record.state === CAPTURE_STATES.ending ? this.finish() : this.startFollowing()));
    }, this.deps.retryDelayMs);
    this.retryTimer.unref();
  }

  /** The backstop: an OFFLINE this replica never turned into `ending` (a status record lost in a race) still ends the capture. */
  private scheduleCheck(): void {
    clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => {
      void this.check().finally(() => {
        if (this.holding && !this.stopped && this.record.state === CAPTURE_STATES.following) this.scheduleCheck();
      });
    }, this.deps.checkEveryMs);
    this.checkTimer.unref();
  }

  private async check(): Promise<void> {
    if (!this.holding || this.record.state !== CAPTURE_STATES.following) return;
    try {
      const status = await this.deps.isStillLive(this.record);
      if (status.live) return;
      this.deps.logger.info({ canonical_id: this.canonicalId }, 'VOD capture: the broadcast is no longer live; ending it');
      await this.deps.captures.update(captureKeyOf(this.canonicalId), (current) =>
        current?.canonical_id === this.canonicalId && current.state === CAPTURE_STATES.following
          ? {
              ...current,
              state: CAPTURE_STATES.ending,
              ended_at: status.ended_at ?? new Date(this.deps.now()).toISOString(),
              ...(status.title ? { title: status.title } : {}),
              updated_at: new Date(this.deps.now()).toISOString(),
            }
          : SKIP,
      );
    } catch (error) {
      this.deps.logger.warn({ err: error, canonical_id: this.canonicalId }, 'VOD capture check failed; trying at the next round');
    }
  }

  /** Ends the archive (stopping the follower), enqueues the job, deletes the record. Holder only. */
  private async finish(): Promise<void> {
    if (!this.holding || this.stopped || this.finished) return;
    this.finishing = true;
    clearTimeout(this.checkTimer);
    const { deps } = this;
    const record = this.record;
    try {
      let outcome: IngestOutcome | undefined;
      const current = this.follower;
      if (current) {
        outcome = await current.follower.stop();
        await current.run;
        current.fetcher.close();
        this.follower = undefined;
      }
      if (!outcome) {
        // Taken over while ending, or the follower had stopped on the store: end the manifest as it stands.
        const sink = await ArchiveSink.open(deps.media, record.archive_prefix, { kind: 'live', source: record.url }, { clock: deps.clock });
        if (sink.head.state === 'following') await sink.end('stop');
        outcome = { state: sink.head.state, ...(sink.head.endedBy ? { endedBy: sink.head.endedBy } : {}), totals: sink.totals };
      }
      const job: VodJob = {
        canonical_id: record.canonical_id,
        channel: record.channel,
        source: { kind: 'live-archive', archive_prefix: record.archive_prefix },
        started_at: record.started_at,
        ...(record.ended_at ? { ended_at: record.ended_at } : {}),
        ...(record.title ? { title: record.title.slice(0, 300) } : {}),
        requested_at: new Date(deps.now()).toISOString(),
      };
      await enqueueVodJob(deps.bus, job, { vods: deps.vods, now: deps.now });
      deps.logger.info({ canonical_id: record.canonical_id, archive: outcome.state, segments: outcome.totals.segments }, 'VOD capture finished: job enqueued');
      deps.events.enqueued(record.canonical_id, job, outcome);
      await deps.captures.update(captureKeyOf(record.canonical_id), (stored) => (stored?.canonical_id === record.canonical_id ? undefined : SKIP));
      this.finished = true;
    } catch (error) {
      this.finishing = false;
      this.retryLater(error);
    }
  }
}
