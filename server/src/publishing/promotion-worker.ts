import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseChannelRef } from '@live-upload/schema';
import { ulid } from 'ulid';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import { CONSUMERS, STREAMS, SUBJECTS, encodeJson, type Bus, type BusMessage, type Consumer } from '../bus/index.js';
import { MediaProcessError, createJobLimiter, transcodeForPublishing, type JobLimiter, type MediaBinaries } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import type { ObjectStore } from '../storage/index.js';
import {
  UploadTransitionError,
  promotionJobSchema,
  transitionUpload,
  type PromotionJob,
  type QuarantinedUploads,
  type UploadRecord,
  type UploadStore,
} from '../uploads/index.js';
import type { ClipPublishedEvent } from './clip-published-event.js';
import { FaceBlurRefusedError, faceBlurVideoFilter } from './face-blur-for-upload.js';
import { publishedMediaUrls } from './published-media.js';
import { hasCompleteOutput, removeOutput, storeOutput } from './published-media-output.js';
import { replayOfUpload, type UploadReplays } from './replay-of-upload.js';

/** Who the audit trail names for what this worker does. */
const ACTOR = 'publishing';

/** Transcodes that fail this many deliveries in a row reject the upload instead of retrying forever. */
export const MAX_TRANSCODE_ATTEMPTS = 3;

/**
 * Heartbeats (`working()` every third of this) keep a long transcode's job; a worker that dies
 * (kill -9, lost node) releases it to another after at most this long.
 */
export const PROMOTION_ACK_WAIT_MS = 15_000;

/** The directory (under `MEDIA_DIR`) where transcodes write before their files go to the media store: local scratch, never served. */
export const STAGING_DIR_NAME = '.staging';

export interface PromotionWorkerOptions {
  readonly bus: Bus;
  readonly uploads: UploadStore;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** The approved uploads' bytes (a directory or the fleet's bucket); deleted once published. */
  readonly quarantine: QuarantinedUploads;
  /** Published media: `{upload_id}/...` as the transcode writes it (a directory, or the fleet's media bucket). */
  readonly media: ObjectStore;
  /** Local scratch where a transcode writes before its files go to `media` (each job's own subdirectory, removed after it). */
  readonly stagingDir: string;
  /** Transcodes at once in this process (config `TRANSCODE_CONCURRENCY`). */
  readonly concurrency: number;
  readonly maxTranscodeAttempts?: number;
  readonly ackWaitMs?: number;
  /** Promotion jobs held unacked at once on the durable consumer (shared by a fleet). Default: twice `concurrency`. */
  readonly maxInFlight?: number;
  /** Per transcode; default the transcode's own (10 min). */
  readonly transcodeTimeoutMs?: number;
  readonly binaries?: Partial<MediaBinaries>;
  /** Where a publisher's `broadcast` upload becomes a replay job. Without it such an upload waits (its job is retried). */
  readonly replays?: UploadReplays;
  readonly now?: () => number;
}

/**
 * Promotes approved uploads: consumes `uploads.approved` (durable, filtered, so it never
 * overlaps the moderation consumer on the UPLOADS work queue), transcodes the quarantined file
 * of an `approved` upload (any other status is skipped)
 * into a local staging directory, sends its files to the media store under `{upload_id}/` with
 * a completion marker last, moves the record to `published` by compare-and-set, then announces
 * `clip.published`, audits, and deletes the quarantined file.
 *
 * Applied once however often a job is delivered, on whichever replica: a complete output (its
 * marker present) is reused, a partial one is overwritten by the next transcode, the
 * record's move is the commit point, the announcement and audit records carry msg ids, and the
 * quarantined file doubles as the "still to announce" marker (a published upload whose file
 * is gone is skipped outright).
 *
 * A publisher's `broadcast` upload (a recording of their broadcast) is not transcoded here: it
 * becomes a replay job (`upload` source) under the canonical id `replayOfUpload` gives it, and
 * the upload moves to `published` with `replay` naming that replay. The VOD worker makes the
 * ladder from the quarantined bytes and deletes them; no `clip.published` goes out.
 */
export class PromotionWorker {
  private consumer: Consumer | undefined;
  /** Aborted by `stop()`: running transcodes end at once and their jobs are redelivered later. */
  private stopping = new AbortController();
  private readonly now: () => number;
  private readonly maxAttempts: number;
  private readonly ackWaitMs: number;
  private readonly limiter: JobLimiter;

  constructor(private readonly options: PromotionWorkerOptions) {
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxTranscodeAttempts ?? MAX_TRANSCODE_ATTEMPTS;
    this.ackWaitMs = options.ackWaitMs ?? PROMOTION_ACK_WAIT_MS;
    this.limiter = createJobLimiter(options.concurrency);
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    this.stopping = new AbortController();
    this.consumer = await this.options.bus.consume(
      {
        stream: STREAMS.uploads.name,
        durable: CONSUMERS.promotion,
        filterSubject: SUBJECTS.uploadsApproved,
        ackWaitMs: this.ackWaitMs,
        maxAckPending: this.options.maxInFlight ?? 2 * this.options.concurrency,
      },
      (message) => this.handle(message),
    );
  }

  /** Stops taking jobs; running transcodes are aborted and their jobs left for redelivery. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.stopping.abort();
    await consumer?.stop();
  }

  /** One delivery of a promotion job. Resolves to ack; throws to be redelivered with backoff. */
  async handle(message: BusMessage): Promise<void> {
    const log = this.options.logger;
    let job: PromotionJob;
    try {
      job = promotionJobSchema.parse(JSON.parse(new TextDecoder().decode(message.data)));
    } catch (error) {
      log.error({ err: error, seq: message.seq }, 'malformed promotion job dropped');
      message.term();
      return;
    }
    const record = await this.options.uploads.get(job.upload_id);
    if (!record) {
      log.warn({ upload_id: job.upload_id }, 'promotion job for an unknown upload dropped');
      message.term();
      return;
    }
    if (record.source === 'broadcast') {
      await this.promoteReplay(record);
      return;
    }
    if (record.status === 'published') {
      await this.announce(record);
      return;
    }
    if (record.status !== 'approved') {
      log.info({ upload_id: record.upload_id, status: record.status }, 'promotion job skipped: the upload is not approved');
      return;
    }

    const heartbeat = setInterval(() => message.working(), Math.max(250, Math.floor(this.ackWaitMs / 3)));
    try {
      await this.produceMedia(record);
    } catch (error) {
      if (error instanceof FaceBlurRefusedError) {
        await this.rejectUnpublishable(record, 'faces blur impossible', error, 'faces-blur');
        return;
      }
      if (!(error instanceof MediaProcessError) || this.stopping.signal.aborted) throw error;
      if (message.deliveryCount < this.maxAttempts) {
        log.warn({ err: error, upload_id: record.upload_id, attempt: message.deliveryCount }, 'transcode failed; will retry');
        throw error;
      }
      this.options.logger.warn({ err: error, upload_id: record.upload_id, attempts: this.maxAttempts }, 'transcode failed for good');
      await this.rejectUnpublishable(record, 'transcode failed', error, 'transcode');
      return;
    } finally {
      clearInterval(heartbeat);
    }

    const media = publishedMediaUrls(record.upload_id);
    let published: UploadRecord | undefined;
    try {
      published = await this.options.uploads.update(record.upload_id, (current) => {
        if (current.status === 'published') return current;
        if (current.status !== 'approved') throw new UploadTransitionError(current.status, 'published');
        return { ...transitionUpload(current, 'published', new Date(this.now()).toISOString()), media: { ...media } };
      });
    } catch (error) {
      if (!(error instanceof UploadTransitionError)) throw error;
      published = undefined;
    }
    if (published?.status !== 'published') {
      // Rejected or deleted while transcoding: nothing may be served.
      await removeOutput(this.options.media, record.upload_id);
      log.info({ upload_id: record.upload_id }, 'upload changed while transcoding; output discarded');
      return;
    }
    log.info({ upload_id: record.upload_id, channel: record.channel }, 'upload published');
    await this.announce(published);
  }

  /**
   * A `broadcast` upload: its replay job first (the replay's record `queued`, one job on
   * VOD_JOBS; both idempotent), then the upload `published` with `replay`, then the audit. Each
   * step repeats harmlessly, so a crash anywhere is finished by the redelivery.
   */
  private async promoteReplay(record: UploadRecord): Promise<void> {
    const log = this.options.logger;
    if (record.status !== 'approved' && record.status !== 'published') {
      log.info({ upload_id: record.upload_id, status: record.status }, 'replay promotion skipped: the upload is not approved');
      return;
    }
    if (record.status === 'approved' && record.publish_options?.blur_faces) {
      // The replay ladder is made from the quarantined bytes as they are: it cannot blur, so it must not be made.
      await this.rejectUnpublishable(record, 'faces blur impossible', new Error('faces blur is not applied to replay ladders'), 'faces-blur');
      return;
    }
    const replays = this.options.replays;
    if (!replays) throw new Error('this promotion worker queues no replays; a broadcast upload waits for one that does');
    const replay = replayOfUpload(record);
    if (record.status === 'approved') {
      const nowIso = new Date(this.now()).toISOString();
      await replays.enqueue({
        canonical_id: replay.canonical_id,
        channel: record.channel,
        upload_id: record.upload_id,
        started_at: record.created_at,
        ...(record.title ? { title: record.title } : {}),
        requested_at: nowIso,
      });
      let published: UploadRecord | undefined;
      try {
        published = await this.options.uploads.update(record.upload_id, (current) => {
          if (current.status === 'published') return current;
          if (current.status !== 'approved') throw new UploadTransitionError(current.status, 'published');
          return { ...transitionUpload(current, 'published', nowIso), replay: { ...replay } };
        });
      } catch (error) {
        if (!(error instanceof UploadTransitionError)) throw error;
        // Rejected or deleted meanwhile: its replay must not be made.
        await replays.cancel(replay.canonical_id);
        log.info({ upload_id: record.upload_id, from: error.from }, 'broadcast upload changed before its replay was queued; replay cancelled');
        return;
      }
      if (published?.status !== 'published') return;
      log.info({ upload_id: record.upload_id, channel: record.channel, canonical_id: replay.canonical_id }, 'broadcast upload handed to its replay');
    }
    await this.options.audit.record({
      actor: ACTOR,
      action: AUDIT_ACTIONS.uploadPublished,
      target: record.upload_id,
      details: { channel: record.channel, replay },
      msgId: `audit:${AUDIT_ACTIONS.uploadPublished}:${record.upload_id}`,
    });
  }

  /** The upload's output in the media store: reused when a delivery (here or on another replica) completed it, else transcoded now. */
  private async produceMedia(record: UploadRecord): Promise<void> {
    const { media, stagingDir, quarantine } = this.options;
    if (await hasCompleteOutput(media, record.upload_id)) return;
    // Approved "with faces blurred": every rendition is cut from the blurred MP4; no face data, no publication.
    const videoFilter = faceBlurVideoFilter(record);
    const staging = join(stagingDir, `${record.upload_id}.${ulid(this.now())}`);
    await mkdir(staging, { recursive: true });
    // ffmpeg needs a seekable file: the object's own on the file system, a download from S3.
    const source = await quarantine.localFile(record.upload_id);
    try {
      // As ffmpeg failing on a missing input did: retried, then the upload is rejected as untranscodable.
      if (!source) throw new MediaProcessError({ tool: 'ffmpeg', kind: 'spawn', exitCode: null, stderrTail: 'the upload has no bytes in the quarantine' });
      await transcodeForPublishing(source.path, staging, {
        limiter: this.limiter,
        signal: this.stopping.signal,
        ...(this.options.transcodeTimeoutMs ? { timeoutMs: this.options.transcodeTimeoutMs } : {}),
        ...(this.options.binaries ? { binaries: this.options.binaries } : {}),
        ...(videoFilter ? { videoFilter } : {}),
      });
      await storeOutput(media, record.upload_id, staging);
    } finally {
      await source?.release();
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** After publication: `clip.published`, the audit record, then the quarantined file goes. Each step is idempotent. */
  private async announce(record: UploadRecord): Promise<void> {
    const { bus, audit, quarantine } = this.options;
    if ((await quarantine.lastWrittenMs(record.upload_id)) === undefined) return;
    const ref = parseChannelRef(record.channel);
    if (!ref) throw new Error(`upload ${record.upload_id} has a malformed channel ${record.channel}`);
    const media = publishedMediaUrls(record.upload_id);
    const event: ClipPublishedEvent = {
      upload_id: record.upload_id,
      channel: record.channel,
      ...(record.clip ? { canonical_id: record.clip.canonical_id, from_s: record.clip.from_s, to_s: record.clip.to_s } : {}),
      media,
      published_at: record.updated_at,
    };
    await bus.publish(SUBJECTS.clipPublished(ref), encodeJson(event), { msgId: record.upload_id });
    await audit.record({
      actor: ACTOR,
      action: AUDIT_ACTIONS.uploadPublished,
      target: record.upload_id,
      details: { channel: record.channel, media, ...(record.publish_options?.blur_faces ? { faces_blurred: true } : {}) },
      msgId: `audit:${AUDIT_ACTIONS.uploadPublished}:${record.upload_id}`,
    });
    await quarantine.delete(record.upload_id);
    await audit.record({
      actor: ACTOR,
      action: AUDIT_ACTIONS.quarantineDeleted,
      target: record.upload_id,
      reason: 'promoted',
      msgId: `audit:${AUDIT_ACTIONS.quarantineDeleted}:${record.upload_id}`,
    });
  }

  /**
   * Rejects an approved upload that cannot be published (its transcode keeps failing, or a faces
   * blur was asked for without face data), audited once with `reason` (`kind` keys the msg id).
   * The quarantined file stays for the rejected retention, then the sweeper deletes it.
   */
  private async rejectUnpublishable(record: UploadRecord, reason: string, error: Error, kind: string): Promise<void> {
    this.options.logger.warn({ err: error, upload_id: record.upload_id, reason }, 'approved upload cannot be published; rejected');
    let rejected: UploadRecord | undefined;
    try {
      rejected = await this.options.uploads.transition(record.upload_id, 'rejected');
    } catch (transitionError) {
      if (!(transitionError instanceof UploadTransitionError)) throw transitionError;
      this.options.logger.info({ upload_id: record.upload_id, from: transitionError.from }, 'unpublishable upload changed meanwhile; left as it is');
      return;
    }
    if (rejected?.status !== 'rejected') return;
    await this.options.audit.record({
      actor: ACTOR,
      action: AUDIT_ACTIONS.uploadRejected,
      target: record.upload_id,
      reason,
      details: { error: error.message },
      msgId: `audit:${AUDIT_ACTIONS.uploadRejected}:${kind}:${record.upload_id}`,
    });
  }
}
