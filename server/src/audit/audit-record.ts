import { z } from 'zod';

/** Audit actions, one table. */
export const AUDIT_ACTIONS = {
  providerRevoked: 'provider.revoked',
  channelUpserted: 'channel.upserted',
  uploadCheck: 'upload.check',
  uploadRejected: 'upload.rejected',
  uploadInReview: 'upload.in_review',
  uploadApproved: 'upload.approved',
  blocklistAdded: 'blocklist.added',
  blocklistRemoved: 'blocklist.removed',
  /** An admin added an audio reference (its fingerprint; never the file) for the fingerprint check to match, or removed one. */
  audioReferenceAdded: 'audio_reference.added',
  audioReferenceRemoved: 'audio_reference.removed',
  uploadPublished: 'upload.published',
  quarantineDeleted: 'quarantine.deleted',
  /** A client was given an upload grant (a new upload, or a fresh token to resume one). */
  uploadGranted: 'upload.granted',
  /** The client ended its own incomplete upload (tus termination). */
  uploadCancelled: 'upload.cancelled',
  /** Outbound webhook subscribers (Standard Webhooks) and their deliveries. */
  webhookSubscriberCreated: 'webhook.subscriber.created',
  webhookSubscriberUpdated: 'webhook.subscriber.updated',
  webhookSubscriberDeleted: 'webhook.subscriber.deleted',
  webhookSecretRotated: 'webhook.subscriber.secret_rotated',
  /** The receiver answered 410 Gone. */
  webhookSubscriberDisabled: 'webhook.subscriber.disabled',
  webhookDeliveryReplayed: 'webhook.delivery.replayed',
  webhookDeadLetterDeleted: 'webhook.dead_letter.deleted',
  /** A publisher linked a provider account by OAuth or app password, or an admin unlinked it. */
  providerLinked: 'provider.linked',
  providerUnlinked: 'provider.unlinked',
  /** The provider refused a token refresh: the link needs the publisher to authorize again. */
  providerNeedsReauth: 'provider.needs_reauth',
  /** A VOD playlist was handed in to become a replay of the channel. */
  vodRequested: 'vod.requested',
  /** An admin wrote the default or a channel's moderation rules (old and new version, what changed, the document). */
  moderationRulesChanged: 'moderation_rules.changed',
  /** An admin removed a channel's own moderation rules: its jobs run with the default again. */
  moderationRulesDeleted: 'moderation_rules.deleted',
  /** An admin gave the host page a publisher grant for a channel (its id, capabilities and expiry; never the token). */
  publisherGranted: 'publisher.granted',
  /** An admin blocked a fediverse domain or actor (refused at the inbox, sent nothing), or lifted the block. */
  federationBlockAdded: 'federation.block.added',
  federationBlockRemoved: 'federation.block.removed',
  /** An admin removed a channel's follower (its server was sent a Reject of the follow). */
  federationFollowerRemoved: 'federation.follower.removed',
  /** An admin sent a federation dead letter again, or discarded it. */
  federationDeadLetterRetried: 'federation.dead_letter.retried',
  federationDeadLetterDiscarded: 'federation.dead_letter.discarded',
} as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

/** One append-only audit record: who did what to what, why, and when. */
export const auditRecordSchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;
