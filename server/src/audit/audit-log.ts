import { ulid } from 'ulid';
import { SUBJECTS, encodeJson, type Bus } from '../bus/index.js';
import type { AuditAction, AuditRecord } from './audit-record.js';

/** Appends audit records to the `AUDIT` stream (never edited, never deleted). */
export class AuditLog {
  constructor(
    private readonly bus: Bus,
    private readonly now: () => number = Date.now,
  ) {}

  /** `msgId` (optional) makes a retried write of the same fact a duplicate inside the stream's window. */
  async record(entry: {
    actor: string;
    action: AuditAction;
    target: string;
    reason?: string | null;
    details?: Record<string, unknown>;
    msgId?: string;
  }): Promise<AuditRecord> {
    const record: AuditRecord = {
      id: ulid(this.now()),
      at: new Date(this.now()).toISOString(),
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      reason: entry.reason ?? null,
      ...(entry.details ? { details: entry.details } : {}),
    };
    await this.bus.publish(SUBJECTS.audit(entry.action), encodeJson(record), { msgId: entry.msgId ?? `audit:${record.id}` });
    return record;
  }
}
