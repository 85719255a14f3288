import { z } from 'zod';
import { parseRfc3339 } from './rfc3339.js';

/**
 * Zod schemas for Twitch EventSub webhook bodies and the event payloads we consume, per
 * https://dev.twitch.tv/docs/eventsub/handling-webhook-events/ and the subscription type
 * reference. Objects are not strict: Twitch may add fields, and unknown ones are dropped.
 */

/** Subscription types (and the version we subscribe to) that this provider maps. */
export const TWITCH_SUBSCRIPTION_TYPES = {
  streamOnline: { type: 'stream.online', version: '1' },
  streamOffline: { type: 'stream.offline', version: '1' },
  channelUpdate: { type: 'channel.update', version: '2' },
} as const;

export type TwitchSubscriptionType =
  (typeof TWITCH_SUBSCRIPTION_TYPES)[keyof typeof TWITCH_SUBSCRIPTION_TYPES]['type'];

/** An RFC 3339 timestamp as Twitch writes them (nanosecond precision allowed). */
export const rfc3339Schema = z.string().refine((value) => parseRfc3339(value) !== undefined, 'must be an RFC 3339 timestamp');

export const eventSubTransportSchema = z.object({
  method: z.string(),
  callback: z.string().optional(),
  session_id: z.string().optional(),
  conduit_id: z.string().optional(),
});

export const eventSubSubscriptionSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  type: z.string().min(1),
  version: z.string().min(1),
  cost: z.number().int().nonnegative(),
  condition: z.record(z.string(), z.unknown()),
  transport: eventSubTransportSchema,
  created_at: rfc3339Schema,
});

/** `Twitch-Eventsub-Message-Type: notification`. `event` is parsed per type by the mapper. */
export const eventSubNotificationBodySchema = z.object({
  subscription: eventSubSubscriptionSchema,
  event: z.record(z.string(), z.unknown()),
});

/**
 * What the webhook reads of a notification before it publishes the body as received: the
 * subscription's type and version (they travel with the raw event, within the raw stream's
 * limits) and that `event` is an object. The pipeline's mapper validates the event per type;
 * nothing else of the subscription is used on this path, so it is neither checked nor copied
 * out on every delivery (the full schema was a third of the webhook's own parsing cost).
 */
export const eventSubNotificationEnvelopeSchema = z.object({
  subscription: z.object({ type: z.string().min(1).max(128), version: z.string().min(1).max(16) }),
  event: z.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'event must be an object'),
});

/** `Twitch-Eventsub-Message-Type: webhook_callback_verification`: answer 200 with `challenge` as text/plain. */
export const eventSubVerificationBodySchema = z.object({
  challenge: z.string().min(1),
  subscription: eventSubSubscriptionSchema,
});

/** `Twitch-Eventsub-Message-Type: revocation`: `subscription.status` says why. */
export const eventSubRevocationBodySchema = z.object({
  subscription: eventSubSubscriptionSchema,
});

const broadcasterFields = {
  broadcaster_user_id: z.string().min(1),
  broadcaster_user_login: z.string(),
  broadcaster_user_name: z.string(),
};

/** `stream.online` v1. */
export const streamOnlineEventSchema = z.object({
  id: z.string().min(1),
  ...broadcasterFields,
  /** Documented: live, playlist, watch_party, premiere, rerun. Kept open so a new value is not a parse failure. */
  type: z.string(),
  started_at: rfc3339Schema,
});

/** `stream.offline` v1. */
export const streamOfflineEventSchema = z.object({
  ...broadcasterFields,
});

/** `channel.update` v2. */
export const channelUpdateEventSchema = z.object({
  ...broadcasterFields,
  title: z.string(),
  language: z.string(),
  category_id: z.string(),
  category_name: z.string(),
  content_classification_labels: z.array(z.string()),
});

export type EventSubSubscription = z.infer<typeof eventSubSubscriptionSchema>;
export type EventSubNotificationBody = z.infer<typeof eventSubNotificationBodySchema>;
export type EventSubNotificationEnvelope = z.infer<typeof eventSubNotificationEnvelopeSchema>;
export type EventSubVerificationBody = z.infer<typeof eventSubVerificationBodySchema>;
export type EventSubRevocationBody = z.infer<typeof eventSubRevocationBodySchema>;
export type StreamOnlineEvent = z.infer<typeof streamOnlineEventSchema>;
export type StreamOfflineEvent = z.infer<typeof streamOfflineEventSchema>;
export type ChannelUpdateEvent = z.infer<typeof channelUpdateEventSchema>;
