import { Counter, Histogram, type Registry } from 'prom-client';

/** Metric names of federation (ActivityPub), one table. */
export const FEDERATION_METRIC_NAMES = {
  deliveries: 'live_upload_federation_deliveries_total',
  attempts: 'live_upload_federation_delivery_attempts_total',
  attemptSeconds: 'live_upload_federation_delivery_attempt_seconds',
  follows: 'live_upload_federation_follows_total',
  inboxRefusals: 'live_upload_federation_inbox_refusals_total',
} as const;

/**
 * How a delivery ended (once per delivery, not per attempt): `delivered` (2xx), `rejected` (the
 * receiver's 4xx other than 408/429), `refused` (our SSRF rules or a bad inbox URL), `blocked`
 * (the recipient was blocked after the job was made), `dead_lettered` (gave up after its retries).
 */
export const FEDERATION_DELIVERY_OUTCOMES = ['delivered', 'rejected', 'refused', 'blocked', 'dead_lettered'] as const;
export type FederationDeliveryOutcome = (typeof FEDERATION_DELIVERY_OUTCOMES)[number];

/** What one attempt came to: `failed` is a network error, a timeout, a 5xx, a 408 or a 429 (retried). */
export const FEDERATION_ATTEMPT_OUTCOMES = ['delivered', 'rejected', 'refused', 'failed'] as const;
export type FederationAttemptOutcome = (typeof FEDERATION_ATTEMPT_OUTCOMES)[number];

/** Changes to a channel's followers: a remote Follow, a remote Undo of it, the admin removing one. */
export const FEDERATION_FOLLOW_CHANGES = ['followed', 'unfollowed', 'removed'] as const;
export type FederationFollowChange = (typeof FEDERATION_FOLLOW_CHANGES)[number];

/**
 * Why an inbox POST was refused: no Signature header, one that cannot be read, a Date outside
 * the skew, a Digest that does not match, the signer's key not to be had, a signature that does
 * not hold, the signer's account gone, an activity whose actor is not the signer, a blocked
 * signer, a body over the limit, and an activity that is not one (bad JSON, missing fields).
 */
export const FEDERATION_INBOX_REFUSALS = [
  'unsigned',
  'malformed_signature',
  'date',
  'digest',
  'key_unavailable',
  'bad_signature',
  'signer_gone',
  'actor_mismatch',
  'blocked',
  'too_large',
  'invalid',
] as const;
export type FederationInboxRefusal = (typeof FEDERATION_INBOX_REFUSALS)[number];

/** The counters and histogram federation reports; labels are the tables above and the activity type. */
export interface FederationMetrics {
  readonly deliveries: Counter<'activity' | 'outcome'>;
  readonly attempts: Counter<'activity' | 'outcome'>;
  readonly attemptSeconds: Histogram<'activity'>;
  readonly follows: Counter<'change'>;
  readonly inboxRefusals: Counter<'reason'>;
}

/**
 * Registers federation's metrics on the app's registry (one per app instance, like the other
 * metrics here: no module-level singletons). Activity types are ours (Create, Update, Delete,
 * Accept, Reject), so the `activity` label stays small.
 */
export function createFederationMetrics(registry: Registry): FederationMetrics {
  return {
    deliveries: new Counter({
      name: FEDERATION_METRIC_NAMES.deliveries,
      help: 'ActivityPub deliveries by activity type and how they ended (delivered, rejected, refused, blocked, dead_lettered)',
      labelNames: ['activity', 'outcome'],
      registers: [registry],
    }),
    attempts: new Counter({
      name: FEDERATION_METRIC_NAMES.attempts,
      help: 'ActivityPub delivery attempts by activity type and outcome (failed ones are retried)',
      labelNames: ['activity', 'outcome'],
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: FEDERATION_METRIC_NAMES.attemptSeconds,
      help: 'Duration of ActivityPub delivery attempts (the signed POST to the inbox, until its answer or failure)',
      labelNames: ['activity'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    follows: new Counter({
      name: FEDERATION_METRIC_NAMES.follows,
      help: 'Changes to channels\' followers: followed (a remote Follow), unfollowed (its Undo), removed (by the admin)',
      labelNames: ['change'],
      registers: [registry],
    }),
    inboxRefusals: new Counter({
      name: FEDERATION_METRIC_NAMES.inboxRefusals,
      help: 'Inbox POSTs refused, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
