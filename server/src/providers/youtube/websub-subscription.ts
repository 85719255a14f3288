import { z } from 'zod';
import { leaseRenewAtMs, subscribeRetryDelayMs } from './lease-schedule.js';
import { YOUTUBE_CHANNEL_ID_PATTERN, channelIdOfTopic } from './youtube-ids.js';

export const WEBSUB_MODES = ['subscribe', 'unsubscribe'] as const;
export type WebSubMode = (typeof WEBSUB_MODES)[number];

/** Longest lease we record; the W3C spec leaves the cap to the hub, YouTube's is 10 days. */
export const WEBSUB_MAX_LEASE_SECONDS = 365 * 24 * 60 * 60;
/** Longest `hub.challenge` we echo. */
export const WEBSUB_MAX_CHALLENGE_LENGTH = 1024;

/** Our side of one channel's feed subscription, kept in KV so any process can answer the hub. */
export const webSubSubscriptionSchema = z.object({
  channel_id: z.string().regex(YOUTUBE_CHANNEL_ID_PATTERN),
  topic: z.string(),
  /** `hub.secret`: the HMAC key for this subscription's notifications. */
  secret: z.string().min(16).max(199),
  /** What we asked the hub and have not seen verified yet. */
  pending: z
    .object({ mode: z.enum(WEBSUB_MODES), requested_at_ms: z.number(), lease_seconds: z.number().int().positive() })
    .nullable(),
  /** The lease the hub verified last. */
  lease: z.object({ verified_at_ms: z.number(), lease_seconds: z.number().int().positive() }).nullable(),
  /** The hub said `hub.mode=denied`. */
  denied_reason: z.string().max(500).nullable(),
  failures: z.number().int().nonnegative(),
  /** When the subscriber should act on this subscription next: renew, retry, or give up waiting. */
  next_attempt_at_ms: z.number(),
});
export type WebSubSubscription = z.infer<typeof webSubSubscriptionSchema>;

/** The hub's verification request, `GET {callback}?hub.mode=...`, as its query parameters. */
export interface WebSubVerificationQuery {
  readonly mode: unknown;
  readonly topic: unknown;
  readonly challenge: unknown;
  readonly leaseSeconds: unknown;
  readonly reason: unknown;
}

export type WebSubVerificationAnswer =
  /** Echo `challenge` with 200 text/plain; store `record` (null: delete it). */
  | { readonly kind: 'confirm'; readonly mode: WebSubMode; readonly challenge: string; readonly record: WebSubSubscription | null }
  /** `hub.mode=denied` for a subscription we asked for: 200, store `record`. */
  | { readonly kind: 'denied'; readonly record: WebSubSubscription }
  /** Not a request we made: 404. */
  | { readonly kind: 'unknown'; readonly reason: string }
  /** A malformed request: 400. */
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * Decides the answer to a hub's verification of intent (WebSub §5.3). We confirm only a topic
 * we hold a record for and only the mode we asked for; the lease the hub grants is recorded.
 * Pure: the caller reads the record (by the topic's channel id) and writes what comes back.
 */
export function answerWebSubVerification(
  record: WebSubSubscription | undefined,
  query: WebSubVerificationQuery,
  nowMs: number,
): WebSubVerificationAnswer {
  const { mode, topic, challenge, leaseSeconds, reason } = query;
  if (mode !== 'subscribe' && mode !== 'unsubscribe' && mode !== 'denied') {
    return { kind: 'malformed', reason: 'hub.mode must be subscribe, unsubscribe or denied' };
  }
  if (typeof topic !== 'string' || topic === '') return { kind: 'malformed', reason: 'hub.topic is required' };
  if (channelIdOfTopic(topic) === undefined || !record || record.topic !== topic) {
    return { kind: 'unknown', reason: 'no subscription for this topic' };
  }

  if (mode === 'denied') {
    if (record.pending?.mode !== 'subscribe' && record.lease === null) return { kind: 'unknown', reason: 'no subscribe to deny' };
    const failures = record.failures + 1;
    return {
      kind: 'denied',
      record: {
        ...record,
        pending: null,
        lease: null,
        denied_reason: typeof reason === 'string' ? reason.slice(0, 500) : 'denied',
        failures,
        next_attempt_at_ms: nowMs + subscribeRetryDelayMs(failures),
      },
    };
  }

  if (typeof challenge !== 'string' || challenge === '') return { kind: 'malformed', reason: 'hub.challenge is required' };
  if (challenge.length > WEBSUB_MAX_CHALLENGE_LENGTH) return { kind: 'malformed', reason: 'hub.challenge is too long' };
  if (record.pending?.mode !== mode) return { kind: 'unknown', reason: `we did not ask to ${mode}` };

  if (mode === 'unsubscribe') return { kind: 'confirm', mode, challenge, record: null };

  if (typeof leaseSeconds !== 'string' || !/^[0-9]{1,10}$/.test(leaseSeconds)) {
    return { kind: 'malformed', reason: 'hub.lease_seconds must be a positive integer' };
  }
  const granted = Number(leaseSeconds);
  if (granted < 1 || granted > WEBSUB_MAX_LEASE_SECONDS) return { kind: 'malformed', reason: 'hub.lease_seconds is out of range' };
  const lease = { verified_at_ms: nowMs, lease_seconds: granted };
  return {
    kind: 'confirm',
    mode,
    challenge,
    record: { ...record, pending: null, lease, denied_reason: null, failures: 0, next_attempt_at_ms: leaseRenewAtMs(lease) },
  };
}
