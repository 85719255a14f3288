import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';

/** Audit actions of outbound webhooks, one table. */
export const OUTBOUND_AUDIT_ACTIONS = {
  subscriberCreated: AUDIT_ACTIONS.webhookSubscriberCreated,
  subscriberUpdated: AUDIT_ACTIONS.webhookSubscriberUpdated,
  subscriberDeleted: AUDIT_ACTIONS.webhookSubscriberDeleted,
  secretRotated: AUDIT_ACTIONS.webhookSecretRotated,
  /** The receiver answered 410 Gone. */
  subscriberDisabled: AUDIT_ACTIONS.webhookSubscriberDisabled,
  deliveryReplayed: AUDIT_ACTIONS.webhookDeliveryReplayed,
  deadLetterDeleted: AUDIT_ACTIONS.webhookDeadLetterDeleted,
} as const;
export type OutboundAuditAction = (typeof OUTBOUND_AUDIT_ACTIONS)[keyof typeof OUTBOUND_AUDIT_ACTIONS];

/** Appends an outbound audit record. */
export function recordOutboundAudit(
  audit: AuditLog,
  entry: { actor: string; action: OutboundAuditAction; target: string; reason?: string | null; details?: Record<string, unknown> },
): Promise<unknown> {
  return audit.record(entry);
}
