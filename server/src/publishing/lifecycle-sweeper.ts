import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import type { Logger } from '../observability/index.js';
import { UploadTransitionError, transitionUpload, type QuarantinedUploads, type UploadRecord, type UploadStore } from '../uploads/index.js';

/** Who the audit trail names for lifecycle deletions. */
const ACTOR = 'lifecycle';

/** Why a quarantined file was deleted, as the audit record says. */
export const QUARANTINE_DELETION_REASONS = {
  ttlExpired: 'ttl expired',
  rejectedRetention: 'rejected retention',
  /** Bytes without an upload record (the in-memory bus forgot them at a restart): never moderated, never resumed. */
  orphaned: 'orphaned',
} as const;
export type QuarantineDeletionReason = (typeof QUARANTINE_DELETION_REASONS)[keyof typeof QUARANTINE_DELETION_REASONS];

export interface LifecycleSweeperOptions {
  readonly uploads: UploadStore;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** The quarantine (a directory, or the bucket a fleet shares: every replica sweeps it, and the record's compare-and-set makes each deletion audited once). */
  readonly quarantine: QuarantinedUploads;
  /** Not promoted within this of creation, or rejected this long ago: deleted (config `QUARANTINE_TTL_MS`). */
  readonly ttlMs: number;
  /** A file without an upload record is deleted this long after its last write (config `UPLOAD_INCOMPLETE_TTL_MS`: no upload resumes later); default `ttlMs`. */
  readonly orphanTtlMs?: number;
  /** Between sweeps (config `LIFECYCLE_SWEEP_MS`). */
  readonly intervalMs: number;
  readonly now?: () => number;
}

export interface QuarantineDeletion {
  readonly uploadId: string;
  readonly reason: QuarantineDeletionReason;
}

/**
 * When a quarantined upload's file is due for deletion, and why; undefined while it is kept.
 * Published uploads are the promotion worker's (it deletes their file); rejected ones are kept
 * for `ttlMs` after the rejection; everything else for `ttlMs` after creation. A file without a
 * record is an orphan (the in-memory bus lost its record at a restart): nothing can moderate or
 * resume it, so it goes `orphanTtlMs` after its last write.
 */
export function quarantineExpiry(
  record: UploadRecord | undefined,
  fileModifiedMs: number,
  ttlMs: number,
  orphanTtlMs: number = ttlMs,
): { atMs: number; reason: QuarantineDeletionReason } | undefined {
  if (!record) return { atMs: fileModifiedMs + orphanTtlMs, reason: QUARANTINE_DELETION_REASONS.orphaned };
  switch (record.status) {
    case 'published':
      return undefined;
    case 'rejected':
      return { atMs: Date.parse(record.updated_at) + ttlMs, reason: QUARANTINE_DELETION_REASONS.rejectedRetention };
    default:
      return { atMs: Date.parse(record.created_at) + ttlMs, reason: QUARANTINE_DELETION_REASONS.ttlExpired };
  }
}

/**
 * Deletes quarantined files that outlived their retention, marks their records `deleted`
 * (compare-and-set, so a promotion that wins the race is left alone), and audits each
 * deletion as `quarantine.deleted`. Idempotent: a second sweep finds nothing to do.
 */
export class LifecycleSweeper {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<unknown> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: LifecycleSweeperOptions) {
    this.now = options.now ?? Date.now;
  }

  /** One pass over the quarantine; resolves with what was deleted. */
  async sweep(): Promise<QuarantineDeletion[]> {
    const { quarantine, ttlMs } = this.options;
    const deleted: QuarantineDeletion[] = [];
    for await (const { uploadId, lastWrittenMs } of quarantine.stored()) {
      const expiry = quarantineExpiry(await this.options.uploads.get(uploadId), lastWrittenMs, ttlMs, this.options.orphanTtlMs);
      if (!expiry || this.now() < expiry.atMs) continue;
      if (!(await this.markDeleted(uploadId))) continue;
      await quarantine.delete(uploadId);
      await this.options.audit.record({
        actor: ACTOR,
        action: AUDIT_ACTIONS.quarantineDeleted,
        target: uploadId,
        reason: expiry.reason,
        msgId: `audit:${AUDIT_ACTIONS.quarantineDeleted}:${uploadId}`,
      });
      deleted.push({ uploadId, reason: expiry.reason });
    }
    if (deleted.length > 0) this.options.logger.info({ deleted: deleted.length }, 'expired quarantine files deleted');
    return deleted;
  }

  /** Sweeps once now (a restart may have left orphans) and then every `intervalMs` until `stop()`; one sweep at a time. */
  start(): void {
    if (this.timer) return;
    const sweepOnce = () => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'quarantine sweep failed'))
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setInterval(sweepOnce, this.options.intervalMs);
    this.timer.unref();
    sweepOnce();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Record -> `deleted`; false when it was published meanwhile (the file is then not ours to delete). */
  private async markDeleted(uploadId: string): Promise<boolean> {
    const atIso = new Date(this.now()).toISOString();
    try {
      const record = await this.options.uploads.update(uploadId, (current) => (current.status === 'published' ? current : transitionUpload(current, 'deleted', atIso)));
      return record === undefined || record.status === 'deleted';
    } catch (error) {
      if (error instanceof UploadTransitionError) return false;
      throw error;
    }
  }
}
