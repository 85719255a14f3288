import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCanonicalId, type ParsedCanonicalId } from '@live-upload/schema';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import { CONSUMERS, SKIP, STREAMS, SUBJECTS, encodeJson, type Bus, type BusMessage, type Consumer } from '../bus/index.js';
import { MediaProcessError, createJobLimiter, type JobLimiter, type MediaBinaries } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { QuarantinedUploads } from '../uploads/index.js';
import { HLS_ARCHIVE_INPUT_FORMATS, LadderRefusedError, removeLadderStaging, transcodeLadder, type LadderOptions, type VodLadder } from '../vod/index.js';
import {
  ARCHIVE_STATES,
  ArchiveSink,
  DEFAULT_INGEST_LIMITS,
  SegmentFetcher,
  pullVodPlaylist,
  readArchive,
  systemClock,
  type IngestLimits,
  type SourcePolicy,
} from '../vod-ingest/index.js';
import { materializeArchive } from './archive-playlist.js';
import { OriginLadderMissingError, assembleOriginReplay } from './origin-ladder-replay.js';
import { vodArchivePrefix, vodReplayUrls } from './vod-files.js';
import { broadcastKeyPath, vodJobSchema, type VodJob } from './vod-job.js';
import { readVodOutputMarker, removeVodOutput, storeVodOutput, type VodOutputMarker } from './vod-output.js';
import { isFinalVodState, type VodFailureReason, type VodRecord, type VodRendition } from './vod-record.js';
import type { VodSlots } from './vod-slots.js';
import type { VodStore } from './vod-store.js';

/** Transcodes of one replay that may fail (ffmpeg errors) before it is recorded `failed`. */
export const MAX_VOD_TRANSCODE_ATTEMPTS = 3;
/** Heartbeats (`working()` every third of this) keep a long job; a dead worker's job goes to another after at most this long. */
export const VOD_ACK_WAIT_MS = 15_000;
/** How often progress is written to the record and announced, and a cancel is looked for. */
export const VOD_PROGRESS_INTERVAL_MS = 2_000;
/** A job whose publisher has all its slots taken is offered again after this. */
export const VOD_BUSY_RETRY_MS = 10_000;
/** An archive still `following` this long after its last write is taken as it is (its writer died). */
export const VOD_FOLLOWING_GRACE_MS = 5 * 60_000;

/** What a progress event on `vod.progress.{publisher}.{slug}` carries. */
export interface VodProgressEvent {
  readonly canonical_id: string;
  readonly state: VodRecord['state'];
  readonly percent?: number;
  readonly speed?: number;
  readonly at: string;
}

export interface VodWorkerOptions {
  readonly bus: Bus;
  readonly vods: VodStore;
  readonly slots: VodSlots;
  /** The media store: archives under `vod-archives/`, replays written under `vods/`. */
  readonly media: ObjectStore;
  /** Local scratch (under `MEDIA_DIR/.staging`): each job's own `vod-{publisher}-{slug}-{ulid}/`, removed after it. */
  readonly stagingDir: string;
  readonly logger: Logger;
  /** Replay jobs transcoding at once in this process (config `VOD_CONCURRENCY`). */
  readonly concurrency: number;
  /** Replay jobs of one publisher transcoding at once across the fleet (config `VOD_PER_PUBLISHER_LIMIT`). */
  readonly perPublisherLimit: number;
  /** The SSRF rules for `vod-playlist` sources (OUTBOUND_ALLOW_PRIVATE_HOSTS). */
  readonly sourcePolicy: SourcePolicy;
  readonly ingestLimits?: IngestLimits;
  /** Ladder shape (rungs, segment length...); default the ladder's own. */
  readonly ladder?: LadderOptions & { readonly threads?: number };
  readonly maxTranscodeAttempts?: number;
  readonly ackWaitMs?: number;
  readonly progressIntervalMs?: number;
  readonly busyRetryMs?: number;
  readonly followingGraceMs?: number;
  readonly binaries?: Partial<MediaBinaries>;
  /**
   * The quarantine of `upload` jobs (a publisher's recording): the ladder reads the upload from
   * it, and its bytes are deleted (audited `quarantine.deleted`) once the replay is published or
   * cancelled. Without it an `upload` job fails as `invalid-job`.
   */
  readonly uploads?: { readonly quarantine: QuarantinedUploads; readonly audit: AuditLog };
  readonly now?: () => number;
}

/** Who the audit trail names for the quarantine deletions this worker does. */
const ACTOR = 'vod';

/** A job's source as one local file ffmpeg reads; `release()` when done. */
interface LocalLadderSource {
  readonly path: string;
  /** Demuxers it may be opened with; default the ladder's (the upload containers). */
  readonly inputFormats?: readonly string[];
  release(): Promise<void>;
}

/** The job cannot become a replay, for good: recorded `failed` with this reason. */
class VodSourceError extends Error {
  constructor(
    readonly reason: VodFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'VodSourceError';
  }
}

/**
 * Turns broadcasts into replays: consumes the VOD_JOBS work queue (durable consumer
 * `vod-worker`), and for each job reads the broadcast's archive (a `vod-playlist` job pulls its
 * playlist into one first), downloads it to local scratch as an HLS playlist (an `upload` job
 * reads the publisher's recording from the quarantine instead), runs the ladder,
 * sends the ladder to the media store under `vods/{publisher}/{slug}/{ulid}/` with a completion
 * marker last, moves the record to `published`, then deletes the archive.
 *
 * Exactly once across replicas, as promotion is: the job is held with heartbeats, so a worker
 * killed mid-way (kill -9) lets it go to another after the ack wait; that one removes the dead
 * one's scratch and staging, reuses a complete output (marker present) or transcodes again over
 * a partial one (same keys), and moves the record by compare-and-set; a redelivery of a
 * published replay only finishes the archive's removal (an upload's quarantined bytes). `stop()` aborts running ladders and
 * leaves their jobs for redelivery. A cancel (`VodStore.cancel`) is seen within a progress
 * interval: the ladder is aborted and whatever was written is removed. Failures are final for
 * sources that hold nothing usable (no archive, a failed ingest, no segments, no video), and
 * after `maxTranscodeAttempts` ffmpeg failures (the archive is then kept for an operator).
 */
export class VodWorker {
  private consumer: Consumer | undefined;
  private stopping = new AbortController();
  private readonly now: () => number;
  private readonly limiter: JobLimiter;
  private readonly ackWaitMs: number;
  private readonly progressIntervalMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: VodWorkerOptions) {
    this.now = options.now ?? Date.now;
    this.limiter = createJobLimiter(options.concurrency);
    this.ackWaitMs = options.ackWaitMs ?? VOD_ACK_WAIT_MS;
    this.progressIntervalMs = options.progressIntervalMs ?? VOD_PROGRESS_INTERVAL_MS;
    this.maxAttempts = options.maxTranscodeAttempts ?? MAX_VOD_TRANSCODE_ATTEMPTS;
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    this.stopping = new AbortController();
    this.consumer = await this.options.bus.consume(
      {
        stream: STREAMS.vodJobs.name,
        durable: CONSUMERS.vodWorker,
        filterSubject: SUBJECTS.vodJobs,
        ackWaitMs: this.ackWaitMs,
        maxAckPending: 2 * this.options.concurrency,
      },
      (message) => this.handle(message),
    );
  }

  /** Stops taking jobs; running ones are aborted, their scratch removed, and their jobs left for redelivery. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.stopping.abort();
    await consumer?.stop();
  }

  /** One delivery of a replay job. Resolves to ack; throws to be redelivered with backoff. */
  async handle(message: BusMessage): Promise<void> {
    const log = this.options.logger;
    let job: VodJob;
    try {
      job = vodJobSchema.parse(JSON.parse(new TextDecoder().decode(message.data)));
    } catch (error) {
      log.error({ err: error, seq: message.seq }, 'malformed vod job dropped');
      message.term();
      return;
    }
    const id = parseCanonicalId(job.canonical_id)!;
    const record = await this.ensureRecord(job);
    if (isFinalVodState(record.state)) {
      await this.settle(job, record);
      return;
    }

    let holdsSlot = false;
    const heartbeat = setInterval(() => {
      message.working();
      if (holdsSlot) void this.options.slots.acquire(id.publisher, job.canonical_id, this.options.perPublisherLimit, 3 * this.ackWaitMs).catch(() => undefined);
    }, Math.max(250, Math.floor(this.ackWaitMs / 3)));
    try {
      await this.limiter.run(async () => {
        if (this.stopping.signal.aborted) throw new Error('vod worker stopping');
        if (!(await this.options.slots.acquire(id.publisher, job.canonical_id, this.options.perPublisherLimit, 3 * this.ackWaitMs))) {
          log.info({ canonical_id: job.canonical_id, limit: this.options.perPublisherLimit }, 'publisher has its vod slots taken; job offered again later');
          message.nak(this.options.busyRetryMs ?? VOD_BUSY_RETRY_MS);
          return;
        }
        holdsSlot = true;
        try {
          await this.produce(message, job, id);
        } finally {
          holdsSlot = false;
          await this.options.slots.release(id.publisher, job.canonical_id).catch((error: unknown) => log.warn({ err: error }, 'vod slot release failed; it lapses'));
        }
      });
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The job's record, written `queued` when the enqueue died before writing it. */
  private async ensureRecord(job: VodJob): Promise<VodRecord> {
    const result = await this.options.vods.update(job.canonical_id, (current) =>
      current
        ? SKIP
        : {
            canonical_id: job.canonical_id,
            channel: job.channel,
            state: 'queued',
            started_at: job.started_at,
            ...(job.ended_at ? { ended_at: job.ended_at } : {}),
            ...(job.title ? { title: job.title } : {}),
            ...(job.source.kind === 'upload' ? { upload_id: job.source.upload_id } : {}),
            updated_at: this.isoNow(),
          },
    );
    return result.value!;
  }

  /** A job of a replay that already ended: finish what its end leaves to do (each step idempotent). */
  private async settle(job: VodJob, record: VodRecord): Promise<void> {
    if (record.state === 'published') await this.removeArchive(job);
    if (record.state === 'cancelled') {
      await removeVodOutput(this.options.media, job.canonical_id);
      await this.removeArchive(job);
    }
  }

  private async produce(message: BusMessage, job: VodJob, id: ParsedCanonicalId): Promise<void> {
    const { vods, logger: log } = this.options;
    const started = await vods.update(job.canonical_id, (current) => {
      if (!current || isFinalVodState(current.state)) return SKIP;
      return { ...current, state: 'transcoding', progress: { percent: 0 }, updated_at: this.isoNow() };
    });
    if (started.value?.state !== 'transcoding') {
      if (started.value) await this.settle(job, started.value);
      return;
    }
    await this.announce(job, id, { state: 'transcoding', percent: 0 });

    const abort = new AbortController();
    const onStop = () => abort.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    let cancelled = false;
    let pending: { percent: number; speed: number } | undefined;
    let ticking = false;
    const tick = async () => {
      if (ticking) return;
      ticking = true;
      const progress = pending;
      pending = undefined;
      try {
        const result = await vods.update(job.canonical_id, (current) =>
          current?.state === 'transcoding' && progress ? { ...current, progress, updated_at: this.isoNow() } : SKIP,
        );
        if (result.value?.state !== 'transcoding') {
          cancelled = result.value?.state === 'cancelled';
          abort.abort(new Error(`the replay became ${result.value?.state ?? 'absent'}`));
        } else if (progress) {
          await this.announce(job, id, { state: 'transcoding', ...progress });
        }
      } catch (error) {
        log.warn({ err: error, canonical_id: job.canonical_id }, 'vod progress write failed');
      } finally {
        ticking = false;
      }
    };
    const watcher = setInterval(() => void tick(), this.progressIntervalMs);
    try {
      const facts = (await readVodOutputMarker(this.options.media, job.canonical_id)) ?? (await this.transcode(job, abort.signal, (progress) => (pending = progress)));
      clearInterval(watcher);
      await this.publish(job, id, facts);
    } catch (error) {
      if (!cancelled && abort.signal.aborted && !this.stopping.signal.aborted) {
        // Aborted by a state change other than a cancel (another worker published it): nothing to undo.
        const current = await vods.get(job.canonical_id);
        cancelled = current?.state === 'cancelled';
        if (!cancelled) return;
      }
      if (cancelled) {
        log.info({ canonical_id: job.canonical_id }, 'vod cancelled while transcoding; output removed');
        await removeVodOutput(this.options.media, job.canonical_id);
        await this.removeArchive(job);
        return;
      }
      if (this.stopping.signal.aborted) throw error;
      await this.fail(message, job, id, error);
    } finally {
      clearInterval(watcher);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
  }

  /** Records a failure: final for an unusable source, and for ffmpeg after the last attempt; throws (to retry) otherwise. */
  private async fail(message: BusMessage, job: VodJob, id: ParsedCanonicalId, error: unknown): Promise<void> {
    const log = this.options.logger;
    let reason: VodFailureReason;
    if (error instanceof VodSourceError) reason = error.reason;
    else if (error instanceof LadderRefusedError) reason = 'no-media';
    else if (error instanceof MediaProcessError) {
      const counted = await this.options.vods.update(job.canonical_id, (current) =>
        current?.state === 'transcoding' ? { ...current, attempts: (current.attempts ?? 0) + 1, updated_at: this.isoNow() } : SKIP,
      );
      const attempts = counted.value?.attempts ?? this.maxAttempts;
      if (attempts < this.maxAttempts) {
        log.warn({ err: error, canonical_id: job.canonical_id, attempt: attempts, delivery: message.deliveryCount }, 'vod transcode failed; will retry');
        throw error;
      }
      reason = 'transcode-failed';
    } else throw error;

    const text = error instanceof Error ? error.message : String(error);
    const failed = await this.options.vods.update(job.canonical_id, (current) => {
      if (!current || isFinalVodState(current.state)) return SKIP;
      const { progress: _progress, ...rest } = current;
      return { ...rest, state: 'failed', failure: { reason, message: text.slice(0, 1000) }, updated_at: this.isoNow() };
    });
    log.warn({ err: error, canonical_id: job.canonical_id, reason }, 'vod failed');
    await removeVodOutput(this.options.media, job.canonical_id);
    // An unusable archive goes; one ffmpeg could not read is kept for an operator to look at.
    if (reason !== 'transcode-failed') await this.removeArchive(job);
    if (failed.value?.state === 'failed') await this.announce(job, id, { state: 'failed' });
  }

  /** The complete output's facts into the record (`published`), then the archive goes. A cancel that won the race removes the output instead. */
  private async publish(job: VodJob, id: ParsedCanonicalId, facts: Pick<VodOutputMarker, 'duration_s' | 'renditions'>): Promise<void> {
    const published = await this.options.vods.update(job.canonical_id, (current) => {
      if (!current || isFinalVodState(current.state)) return SKIP;
      const { progress: _progress, failure: _failure, ...rest } = current;
      return { ...rest, state: 'published', duration_s: facts.duration_s, renditions: facts.renditions, urls: vodReplayUrls(job.canonical_id), updated_at: this.isoNow() };
    });
    if (published.value?.state === 'cancelled') {
      await removeVodOutput(this.options.media, job.canonical_id);
      await this.removeArchive(job);
      return;
    }
    if (published.value?.state !== 'published') return;
    this.options.logger.info({ canonical_id: job.canonical_id, duration_s: facts.duration_s, renditions: facts.renditions.length }, 'vod published');
    await this.announce(job, id, { state: 'published', percent: 100 });
    await this.removeArchive(job);
  }

  /**
   * The ladder of the job's source, sent to the media store with its marker. The scratch
   * directory is named after the broadcast, so a worker taking the job over from one killed on
   * this machine removes what that one left first; it is removed again on every way out.
   */
  private async transcode(job: VodJob, signal: AbortSignal, onProgress: (progress: { percent: number; speed: number }) => void): Promise<VodOutputMarker> {
    const { media } = this.options;
    const scratch = join(this.options.stagingDir, `vod-${broadcastKeyPath(job.canonical_id).replaceAll('/', '-')}`);
    const ladderDir = join(scratch, 'ladder');
    await removeLadderStaging(ladderDir);
    await rm(scratch, { recursive: true, force: true });
    try {
      if (job.source.kind === 'origin-ladder') return await this.assembleFromOrigin(job, job.source.prefix, ladderDir, signal);
      const source = await this.localSource(job, scratch, signal);
      let ladder: VodLadder;
      try {
        const { threads, ...ladderOptions } = this.options.ladder ?? {};
        ladder = await transcodeLadder(source.path, ladderDir, {
          ...ladderOptions,
          ...(threads !== undefined ? { threads } : {}),
          ...(source.inputFormats ? { inputFormats: source.inputFormats } : {}),
          signal,
          onProgress: (progress) => onProgress({ percent: Math.round((progress.percent ?? 0) * 10) / 10, speed: Math.round(progress.speed * 100) / 100 }),
          ...(this.options.binaries ? { binaries: this.options.binaries } : {}),
        });
      } finally {
        await source.release();
      }
      signal.throwIfAborted();
      const facts = { canonical_id: job.canonical_id, duration_s: Math.round(ladder.durationS * 1000) / 1000, renditions: renditionsOf(ladder) };
      const stored = await storeVodOutput(media, ladder.dir, facts);
      return { ...facts, files: stored.map(({ key, size, etag }) => ({ key, size, etag })) };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * An origin broadcast's replay from its own live ladder: the rungs' segments copied, no
   * transcode (`assembleOriginReplay`), then stored like a ladder with its marker.
   */
  private async assembleFromOrigin(job: VodJob, prefix: string, ladderDir: string, signal: AbortSignal): Promise<VodOutputMarker> {
    let assembled;
    try {
      assembled = await assembleOriginReplay(this.options.media, prefix, ladderDir, { signal, ...(this.options.binaries ? { binaries: this.options.binaries } : {}) });
    } catch (error) {
      if (error instanceof OriginLadderMissingError) throw new VodSourceError('no-media', error.message);
      throw error;
    }
    signal.throwIfAborted();
    const facts = { canonical_id: job.canonical_id, duration_s: assembled.durationS, renditions: assembled.renditions };
    const stored = await storeVodOutput(this.options.media, ladderDir, facts);
    this.options.logger.info({ canonical_id: job.canonical_id, prefix, files: stored.length }, 'vod made from the origin ladder, no transcode');
    return { ...facts, files: stored.map(({ key, size, etag }) => ({ key, size, etag })) };
  }

  /**
   * The job's source as a local file: the upload's bytes from the quarantine (a local copy when
   * it is a bucket), or the broadcast's archive written out under `scratch` as an HLS playlist.
   */
  private async localSource(job: VodJob, scratch: string, signal: AbortSignal): Promise<LocalLadderSource> {
    const { media } = this.options;
    if (job.source.kind === 'origin-ladder') throw new VodSourceError('invalid-job', 'an origin ladder is copied, not transcoded');
    if (job.source.kind === 'upload') {
      const quarantine = this.options.uploads?.quarantine;
      if (!quarantine) throw new VodSourceError('invalid-job', 'this worker reads no quarantine, so it cannot make a replay of an upload');
      const file = await quarantine.localFile(job.source.upload_id);
      if (!file) throw new VodSourceError('no-media', `upload ${job.source.upload_id} has no bytes in the quarantine`);
      return { path: file.path, release: () => file.release() };
    }
    const prefix = await this.archiveOf(job, job.source, signal);
    const archive = await readArchive(media, prefix);
    if (!archive) throw new VodSourceError('no-media', `no archive at ${prefix}`);
    if (archive.head.state === ARCHIVE_STATES.failed) {
      throw new VodSourceError('source-failed', `the ingest failed: ${archive.head.failure?.reason ?? 'unknown'}: ${archive.head.failure?.message ?? ''}`);
    }
    if (archive.head.state === ARCHIVE_STATES.following && this.now() - archive.head.updatedAtMs < (this.options.followingGraceMs ?? VOD_FOLLOWING_GRACE_MS)) {
      throw new Error(`the archive at ${prefix} is still being written; retried later`);
    }
    if (archive.totals.segments === 0) throw new VodSourceError('no-media', 'the archive holds no segments');
    const local = await materializeArchive(media, prefix, archive, join(scratch, 'source'), { signal });
    if (local.segments === 0) throw new VodSourceError('no-media', 'no archived segment could be read');
    // Removed with the scratch directory.
    return { path: local.playlist, inputFormats: HLS_ARCHIVE_INPUT_FORMATS, release: () => Promise.resolve() };
  }

  /**
   * The archive prefix of the job: a live archive's own (which must be under `vod-archives/`:
   * the worker deletes it at the end), or, for a VOD playlist, the broadcast's archive pulled
   * now (reused when a previous delivery pulled it whole).
   */
  private async archiveOf(job: VodJob, source: Exclude<VodJob['source'], { kind: 'upload' | 'origin-ladder' }>, signal: AbortSignal): Promise<string> {
    const { media } = this.options;
    if (source.kind === 'live-archive') {
      if (!source.archive_prefix.startsWith('vod-archives/')) throw new VodSourceError('invalid-job', `archive_prefix must be under vod-archives/: ${source.archive_prefix}`);
      return source.archive_prefix;
    }
    const prefix = vodArchivePrefix(job.canonical_id);
    const existing = await readArchive(media, prefix);
    if (existing && !(existing.head.state === ARCHIVE_STATES.ended && existing.head.endedBy === 'endlist') && existing.head.state !== ARCHIVE_STATES.failed) {
      await media.deletePrefix(prefix);
    }
    const fetcher = new SegmentFetcher({ ...this.options.sourcePolicy, limits: this.options.ingestLimits ?? DEFAULT_INGEST_LIMITS, clock: systemClock });
    try {
      const sink = await ArchiveSink.open(media, prefix, { kind: 'vod', source: source.url }, { clock: systemClock });
      await pullVodPlaylist({ url: source.url, sink, fetcher, signal });
    } finally {
      fetcher.close();
    }
    if (signal.aborted) {
      // A pull cut short ends its archive `stop`: never a replay of half a VOD.
      await media.deletePrefix(prefix);
      signal.throwIfAborted();
    }
    return prefix;
  }

  /** The job's source once its replay ended: the archive, or an upload's quarantined bytes (audited once, when they were there). */
  private async removeArchive(job: VodJob): Promise<void> {
    if (job.source.kind === 'upload') {
      const uploadId = job.source.upload_id;
      const uploads = this.options.uploads;
      if (!uploads || !(await uploads.quarantine.delete(uploadId))) return;
      await uploads.audit.record({
        actor: ACTOR,
        action: AUDIT_ACTIONS.quarantineDeleted,
        target: uploadId,
        reason: 'promoted',
        details: { canonical_id: job.canonical_id },
        msgId: `audit:${AUDIT_ACTIONS.quarantineDeleted}:${uploadId}`,
      });
      return;
    }
    if (job.source.kind === 'origin-ladder') {
      // The live ladder the replay was copied from (kept by the mirror until now).
      if (job.source.prefix.startsWith('origin/')) await this.options.media.deletePrefix(job.source.prefix);
      return;
    }
    const prefix = job.source.kind === 'live-archive' ? job.source.archive_prefix : vodArchivePrefix(job.canonical_id);
    if (!prefix.startsWith('vod-archives/')) return;
    await this.options.media.deletePrefix(prefix);
  }

  /** A progress event for relays (SSE); losing one is harmless, so a failed publish is only logged. */
  private async announce(job: VodJob, id: ParsedCanonicalId, event: Omit<VodProgressEvent, 'canonical_id' | 'at'>): Promise<void> {
    const body: VodProgressEvent = { canonical_id: job.canonical_id, ...event, at: this.isoNow() };
    await this.options.bus.publish(SUBJECTS.vodProgress(id), encodeJson(body)).catch((error: unknown) => {
      this.options.logger.warn({ err: error, canonical_id: job.canonical_id }, 'vod progress event not published');
    });
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }
}

/** The record's renditions: each video variant with the shared audio added, as the master playlist advertises them. */
function renditionsOf(ladder: VodLadder): VodRendition[] {
  const audio = ladder.audio;
  return ladder.renditions.map((rendition) => ({
    name: rendition.name,
    width: rendition.width,
    height: rendition.height,
    bandwidth: Math.round(rendition.peakBitrate + (audio?.peakBitrate ?? 0)),
    average_bandwidth: Math.round(rendition.averageBitrate + (audio?.averageBitrate ?? 0)),
    codecs: audio ? `${rendition.videoCodec},${audio.codec}` : rendition.videoCodec,
    frame_rate: rendition.frameRate,
  }));
}
