import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import { CONSUMERS, InFlightSlots, STREAMS, SUBJECTS, decodeJson, type Bus, type BusMessage, type Consumer } from '../bus/index.js';
import { createJobLimiter, type JobLimiter } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import type { ObjectStore } from '../storage/index.js';
import { transitionUpload, uploadCompletedJobSchema, type QuarantinedUploads, type UploadRecord, type UploadStore } from '../uploads/index.js';
import { audioFingerprintCheck, type AudioReferences } from './audio/index.js';
import type { HashBlocklist } from './hash-blocklist.js';
import { magicBytesCheck } from './magic-bytes-check.js';
import { mediaProbeCheck, type MediaProbeCheckOptions } from './media-probe-check.js';
import { runModerationCheck, toUploadCheck, type CheckFacts, type CheckResult, type ModerationCheck } from './moderation-check.js';
import { approvalFor, decideModeration } from './moderation-policy.js';
import type { ModerationRulesSource, ResolvedModerationRules } from './moderation-rules.js';
import { perceptualHashCheck } from './perceptual-hash-check.js';
import { MODERATION_ACTOR, auditOutcome, enqueuePromotion } from './promote-upload.js';
import { textCheck } from './text-check.js';
import { facesCheck, nudityCheck } from './vision/index.js';

/** A job of a channel at its in-flight cap comes back after this. */
const CHANNEL_BUSY_DELAY_MS = 500;

/**
 * The built-in checks, cheapest and safest first: the magic bytes gate every tool that parses
 * the file. Append classifiers to this list (see `ModerationCheck`).
 */
export function defaultModerationChecks(
  blocklist: HashBlocklist,
  probe: MediaProbeCheckOptions = {},
  /** Reference lists of the checks that match against one; a check whose list is absent is left out. */
  references: { readonly audio?: AudioReferences } = {},
  /** Where the vision checks keep the flagged frames for moderators (the quarantine store); without it, only scores, times and boxes are recorded. */
  vision: { readonly evidence?: ObjectStore } = {},
): ModerationCheck[] {
  return [
    magicBytesCheck(),
    textCheck(),
    mediaProbeCheck(probe),
    perceptualHashCheck(blocklist),
    ...(references.audio ? [audioFingerprintCheck(references.audio)] : []),
    // The heaviest last (models on sampled frames), so a blocklisted or malformed file never reaches them.
    nudityCheck(vision),
    facesCheck(vision),
  ];
}

/** What is recorded for an upload whose bytes are not in the quarantine (deleted meanwhile): the checks cannot run. */
const NO_QUARANTINED_BYTES_CHECK: ModerationCheck = {
  name: 'quarantine',
  run: () => Promise.resolve({ name: 'quarantine', result: 'error', reason: 'the upload has no bytes in the quarantine', duration_ms: 0 }),
};

export interface ModerationWorkerOptions {
  readonly bus: Bus;
  readonly uploads: UploadStore;
  readonly audit: AuditLog;
  /** Where the uploads wait (a directory or the fleet's bucket); the checks read a local copy. */
  readonly quarantine: QuarantinedUploads;
  /** The rules of a channel's job (approval, thresholds, which checks run), read when the job starts. */
  readonly rules: ModerationRulesSource;
  /** Run in order, stopping at the first `fail`. */
  readonly checks: readonly ModerationCheck[];
  readonly logger: Logger;
  /** Jobs of one channel checked at once (default 2). */
  readonly maxInFlightPerChannel?: number;
  /** Jobs checked at once across channels: ffprobe and ffmpeg are CPU-bound (default 2). */
  readonly concurrency?: number;
  /** Unacked this long: redelivered. Heartbeats (`working()`) hold it while the checks run. Default 30 s. */
  readonly ackWaitMs?: number;
  readonly now?: () => number;
}

/**
 * The durable consumer of `uploads.completed`: runs the checks on the quarantined file, records
 * each on the upload and in the audit log, and moves the upload from `checking` to `rejected`,
 * `in_review` or `approved` by compare-and-set. Idempotent: a redelivered job whose upload has
 * left `checking` is acked and skipped (an `approved` one has its promotion job re-sent, which
 * is a duplicate unless the first send was lost to a crash).
 */
/**
 * Checks send heartbeats (`working()`), so this only bounds how long a job held by a worker that
 * died (kill -9) waits before another worker gets it.
 */
export const MODERATION_ACK_WAIT_MS = 15_000;

export class ModerationWorker {
  private consumer: Consumer | undefined;
  private stopping = new AbortController();
  /** At most `maxInFlightPerChannel` jobs of one channel at once: one channel's burst cannot starve the others. */
  private readonly slots = new InFlightSlots();
  private readonly maxInFlightPerChannel: number;
  private readonly limiter: JobLimiter;
  private readonly ackWaitMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ModerationWorkerOptions) {
    this.maxInFlightPerChannel = options.maxInFlightPerChannel ?? 2;
    if (!Number.isInteger(this.maxInFlightPerChannel) || this.maxInFlightPerChannel < 1) {
      throw new RangeError(`maxInFlightPerChannel must be a positive integer, got ${this.maxInFlightPerChannel}`);
    }
    this.limiter = createJobLimiter(options.concurrency ?? 2);
    this.ackWaitMs = options.ackWaitMs ?? MODERATION_ACK_WAIT_MS;
    this.now = options.now ?? Date.now;
    const names = options.checks.map((check) => check.name);
    if (new Set(names).size !== names.length) throw new RangeError(`check names must be unique: ${names.join(', ')}`);
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    this.consumer = await this.options.bus.consume(
      {
        stream: STREAMS.uploads.name,
        durable: CONSUMERS.moderation,
        filterSubject: SUBJECTS.uploadsCompleted,
        ackWaitMs: this.ackWaitMs,
        maxAckPending: 32,
      },
      (message) => this.handle(message),
    );
  }

  /** Stops taking jobs and waits for the ones being checked. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    // Checks in flight stop waiting; their jobs are handed back undecided (redelivered elsewhere).
    this.stopping.abort(new Error('the moderation worker is stopping'));
    await consumer?.stop();
    this.stopping = new AbortController();
  }

  private async handle(message: BusMessage): Promise<void> {
    const { uploads, logger } = this.options;
    let uploadId: string;
    try {
      uploadId = decodeJson(message.data, uploadCompletedJobSchema).upload_id;
    } catch (error) {
      logger.warn({ err: error, seq: message.seq }, 'malformed moderation job dropped');
      message.term();
      return;
    }
    let record = await uploads.get(uploadId);
    // A crash between the job and the `checking` mark leaves the record `uploading`: the file is complete.
    if (record?.status === 'uploading') record = await uploads.transition(uploadId, 'checking');
    if (!record) {
      logger.warn({ upload_id: uploadId }, 'moderation job for an unknown upload dropped');
      return;
    }
    if (record.status === 'approved') {
      await enqueuePromotion(this.options.bus, record, MODERATION_ACTOR, record.updated_at);
      return;
    }
    if (record.status !== 'checking') return;
    if (!this.slots.tryAcquire(record.channel, this.maxInFlightPerChannel)) {
      message.nak(CHANNEL_BUSY_DELAY_MS);
      return;
    }
    const heartbeat = setInterval(() => message.working(), Math.max(100, Math.floor(this.ackWaitMs / 3)));
    try {
      await this.limiter.run(() => this.moderate(record));
    } finally {
      clearInterval(heartbeat);
      this.slots.release(record.channel);
    }
  }

  private async moderate(record: UploadRecord): Promise<void> {
    const { uploads, audit, logger } = this.options;
    const uploadId = record.upload_id;
    // ffprobe and ffmpeg need a seekable file: the object's own on the file system, a download from S3.
    const local = await this.options.quarantine.localFile(uploadId);
    const rules = await this.options.rules.forChannel(record.channel);
    let results: CheckResult[];
    try {
      results = await this.runChecks(record, local?.path, rules);
    } finally {
      await local?.release();
    }

    const decision = decideModeration(results, approvalFor(record, rules.rules.approval));
    const atIso = new Date(this.now()).toISOString();
    let moved = false;
    const decided = await uploads.update(uploadId, (current) => {
      moved = current.status === 'checking';
      // The record names the rules version its decision used, as the audit entry does.
      return moved ? { ...transitionUpload(current, decision.outcome, atIso), moderation: { policy_version: rules.version, policy_scope: rules.scope } } : current;
    });
    if (!decided || !moved) {
      logger.info({ upload_id: uploadId, status: decided?.status }, 'upload left checking while it was checked; outcome dropped');
      return;
    }
    await auditOutcome(audit, { record: decided, outcome: decision.outcome, actor: MODERATION_ACTOR, reason: decision.reason, rules });
    if (decision.outcome === 'approved') await enqueuePromotion(this.options.bus, decided, MODERATION_ACTOR, atIso);
    logger.info({ upload_id: uploadId, channel: decided.channel, outcome: decision.outcome, reason: decision.reason }, 'upload moderated');
  }

  /** Runs the checks in order up to the first `fail`, recording each on the record and in the audit trail. Without bytes: one `error`. */
  private async runChecks(record: UploadRecord, path: string | undefined, rules: ResolvedModerationRules): Promise<CheckResult[]> {
    const { uploads, audit } = this.options;
    const uploadId = record.upload_id;
    const signal = this.stopping.signal;
    const input = { path: path ?? '', upload: record, facts: {} as CheckFacts, rules, signal };
    const results: CheckResult[] = [];
    for (const check of path === undefined ? [NO_QUARANTINED_BYTES_CHECK] : this.options.checks) {
      const result = await untilAborted(runModerationCheck(check, input), signal);
      results.push(result);
      const atIso = new Date(this.now()).toISOString();
      await uploads.update(uploadId, (current) =>
        current.status !== 'checking'
          ? current
          : { ...current, checks: [...current.checks.filter((kept) => kept.name !== result.name), toUploadCheck(result, atIso)], updated_at: atIso },
      );
      await audit.record({
        actor: MODERATION_ACTOR,
        action: AUDIT_ACTIONS.uploadCheck,
        target: uploadId,
        reason: result.reason ?? null,
        details: { check: result.name, result: result.result, duration_ms: result.duration_ms },
      });
      if (result.result === 'fail') break;
    }
    return results;
  }
}

/**
 * `work`, unless `signal` aborts first: then it rejects at once (what `work` still does is left
 * to end on its own; its result is not used). Also rejects when `work` ends after the abort: a
 * check that failed because it was stopped is not a result.
 */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([work, aborted]);
    signal.throwIfAborted();
    return result;
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
