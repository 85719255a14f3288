import type { AuditLog } from '../audit/index.js';
import { AUDIT_ACTIONS } from '../audit/index.js';
import type { Bus } from '../bus/index.js';
import { enqueuePromotionJob, type UploadRecord } from '../uploads/index.js';
import type { ResolvedModerationRules } from './moderation-rules.js';

/** The actor of automatic moderation in audit records and `approved_by`. */
export const MODERATION_ACTOR = 'moderation';

/** Audit action per outcome. */
export const OUTCOME_AUDIT_ACTIONS = {
  rejected: AUDIT_ACTIONS.uploadRejected,
  in_review: AUDIT_ACTIONS.uploadInReview,
  approved: AUDIT_ACTIONS.uploadApproved,
} as const;

/**
 * After an upload reached `approved`: the promotion job (`uploads.approved`, msg id
 * `approved:{id}`). Safe to repeat: a second publish is a duplicate and the promoter skips an
 * upload that is no longer `approved`.
 */
export async function enqueuePromotion(bus: Bus, record: UploadRecord, approvedBy: string, approvedAtIso: string): Promise<void> {
  await enqueuePromotionJob(bus, { upload_id: record.upload_id, channel: record.channel, approved_by: approvedBy, approved_at: approvedAtIso });
}

/** The audit record of a moderation outcome; the msg id makes a retried write of the same outcome a duplicate. */
export async function auditOutcome(
  audit: AuditLog,
  entry: {
    record: UploadRecord;
    outcome: keyof typeof OUTCOME_AUDIT_ACTIONS;
    actor: string;
    reason: string | null;
    /** The moderation rules the checks ran with: the decision names their version. */
    rules?: ResolvedModerationRules;
  },
): Promise<void> {
  await audit.record({
    actor: entry.actor,
    action: OUTCOME_AUDIT_ACTIONS[entry.outcome],
    target: entry.record.upload_id,
    reason: entry.reason,
    details: {
      channel: entry.record.channel,
      ...(entry.rules ? { policy_version: entry.rules.version, policy_scope: entry.rules.scope } : {}),
      // How it is to be published (approved with faces blurred), as the record says.
      ...(entry.record.publish_options ? { publish_options: entry.record.publish_options } : {}),
    },
    msgId: `audit:${entry.outcome}:${entry.record.upload_id}`,
  });
}
