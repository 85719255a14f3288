import type { z } from 'zod';
import { AppError } from '../../errors/index.js';
import type { CanonicalEvent } from '../../provider-adapter/index.js';
import {
  TWITCH_SUBSCRIPTION_TYPES,
  channelUpdateEventSchema,
  streamOfflineEventSchema,
  streamOnlineEventSchema,
  type ChannelUpdateEvent,
  type StreamOfflineEvent,
  type StreamOnlineEvent,
} from './eventsub-message.js';
import { parseRfc3339 } from './rfc3339.js';

export interface TwitchNotification {
  /** `{publisher}/{slug}`, looked up from the broadcaster's provider link. */
  readonly channel: string;
  /** `Twitch-Eventsub-Message-Id`: the idempotency key. */
  readonly messageId: string;
  /** `Twitch-Eventsub-Message-Timestamp` (RFC 3339, nanoseconds allowed). */
  readonly messageTimestamp: string;
  /** `subscription.type` / `Twitch-Eventsub-Subscription-Type`. */
  readonly subscriptionType: string;
  /** `subscription.version`, when known; a version we do not map yields undefined. */
  readonly subscriptionVersion?: string;
  /** The notification's `event` object, unparsed. */
  readonly event: unknown;
}

/** The mapped subscription types by `type`: looked up for every notification, without a fresh array each time. */
const MAPPED_BY_TYPE: ReadonlyMap<string, (typeof TWITCH_SUBSCRIPTION_TYPES)[keyof typeof TWITCH_SUBSCRIPTION_TYPES]> = new Map(
  Object.values(TWITCH_SUBSCRIPTION_TYPES).map((entry) => [entry.type, entry]),
);

/**
 * Maps a verified Twitch notification to a canonical event; undefined for subscription types
 * (or versions) we do not map. Event time is `started_at` for `stream.online` and the message
 * timestamp otherwise. Throws `AppError('invalid_body')` when a mapped type's payload or the
 * timestamp does not match the documented shape.
 */
export function mapTwitchNotification(notification: TwitchNotification): CanonicalEvent | undefined {
  const { channel, messageId, messageTimestamp, subscriptionType, subscriptionVersion } = notification;
  const expected = MAPPED_BY_TYPE.get(subscriptionType);
  if (!expected || (subscriptionVersion !== undefined && subscriptionVersion !== expected.version)) return undefined;

  const messageTimeMs = parseRfc3339(messageTimestamp);
  if (messageTimeMs === undefined) {
    throw new AppError('invalid_body', 'Twitch message timestamp is not RFC 3339');
  }

  switch (expected.type) {
    case 'stream.online': {
      const event = isStreamOnlineEvent(notification.event) ? notification.event : parsePayload(streamOnlineEventSchema, notification.event, subscriptionType);
      // The schema refined started_at, so it parses.
      const startedAtMs = parseRfc3339(event.started_at) ?? messageTimeMs;
      return {
        kind: 'online',
        channel,
        provider: 'twitch',
        eventId: messageId,
        eventTimeMs: startedAtMs,
        verified: true,
        providerStreamId: event.id,
        fields: { started_at: new Date(startedAtMs).toISOString() },
      };
    }
    case 'stream.offline': {
      if (!hasBroadcasterFields(notification.event)) parsePayload(streamOfflineEventSchema, notification.event, subscriptionType);
      return { kind: 'offline', channel, provider: 'twitch', eventId: messageId, eventTimeMs: messageTimeMs, verified: true, fields: {} };
    }
    case 'channel.update': {
      const event = isChannelUpdateEvent(notification.event) ? notification.event : parsePayload(channelUpdateEventSchema, notification.event, subscriptionType);
      return {
        kind: 'update',
        channel,
        provider: 'twitch',
        eventId: messageId,
        eventTimeMs: messageTimeMs,
        verified: true,
        fields: {
          title: event.title === '' ? null : event.title,
          category: event.category_name === '' ? null : event.category_name,
        },
      };
    }
  }
}

/*
 * The payload checks below accept exactly what the event schemas of `eventsub-message.ts`
 * accept, read in place instead of copied out: every webhook is mapped, and the schema's parse
 * was most of the mapping (bench/README, ingest). A payload they refuse goes through its schema
 * after all, which throws with the schema's own account of what is wrong; one they accept is
 * used as it is (the mapping reads only fields the schema would have passed through unchanged).
 * `map-event.test.ts` holds them to the schemas.
 */

/** An object that is not an array (what `z.object` takes). */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `broadcaster_user_id` (not empty), `broadcaster_user_login` and `broadcaster_user_name`: `stream.offline` v1 and part of the others. */
function hasBroadcasterFields(event: unknown): event is StreamOfflineEvent {
  if (!isRecord(event)) return false;
  const id = event['broadcaster_user_id'];
  return typeof id === 'string' && id !== '' && typeof event['broadcaster_user_login'] === 'string' && typeof event['broadcaster_user_name'] === 'string';
}

/** `stream.online` v1. */
function isStreamOnlineEvent(event: unknown): event is StreamOnlineEvent {
  if (!hasBroadcasterFields(event)) return false;
  const { id, type, started_at: startedAt } = event as Record<string, unknown>;
  return typeof id === 'string' && id !== '' && typeof type === 'string' && typeof startedAt === 'string' && parseRfc3339(startedAt) !== undefined;
}

/** `channel.update` v2. */
function isChannelUpdateEvent(event: unknown): event is ChannelUpdateEvent {
  if (!hasBroadcasterFields(event)) return false;
  const fields = event as Record<string, unknown>;
  const labels = fields['content_classification_labels'];
  if (typeof fields['title'] !== 'string' || typeof fields['language'] !== 'string') return false;
  if (typeof fields['category_id'] !== 'string' || typeof fields['category_name'] !== 'string' || !Array.isArray(labels)) return false;
  for (const label of labels) if (typeof label !== 'string') return false;
  return true;
}

function parsePayload<T>(schema: z.ZodType<T>, event: unknown, subscriptionType: string): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    throw new AppError('invalid_body', `Twitch ${subscriptionType} event does not match the documented payload`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
