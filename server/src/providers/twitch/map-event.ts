import type { z } from 'zod';
import { AppError } from '../../errors/index.js';
import type { CanonicalEvent } from '../../provider-adapter/index.js';
import {
  TWITCH_SUBSCRIPTION_TYPES,
  channelUpdateEventSchema,
  streamOfflineEventSchema,
  streamOnlineEventSchema,
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

/**
 * Maps a verified Twitch notification to a canonical event; undefined for subscription types
 * (or versions) we do not map. Event time is `started_at` for `stream.online` and the message
 * timestamp otherwise. Throws `AppError('invalid_body')` when a mapped type's payload or the
 * timestamp does not match the documented shape.
 */
export function mapTwitchNotification(notification: TwitchNotification): CanonicalEvent | undefined {
  const { channel, messageId, messageTimestamp, subscriptionType, subscriptionVersion } = notification;
  const expected = Object.values(TWITCH_SUBSCRIPTION_TYPES).find((entry) => entry.type === subscriptionType);
  if (!expected || (subscriptionVersion !== undefined && subscriptionVersion !== expected.version)) return undefined;

  const messageTimeMs = parseRfc3339(messageTimestamp);
  if (messageTimeMs === undefined) {
    throw new AppError('invalid_body', 'Twitch message timestamp is not RFC 3339');
  }
  const base = { channel, provider: 'twitch', eventId: messageId, verified: true } as const;

  switch (expected.type) {
    case 'stream.online': {
      const event = parsePayload(streamOnlineEventSchema, notification.event, subscriptionType);
      // The schema refined started_at, so it parses.
      const startedAtMs = parseRfc3339(event.started_at) ?? messageTimeMs;
      return {
        ...base,
        kind: 'online',
        eventTimeMs: startedAtMs,
        providerStreamId: event.id,
        fields: { started_at: new Date(startedAtMs).toISOString() },
      };
    }
    case 'stream.offline': {
      parsePayload(streamOfflineEventSchema, notification.event, subscriptionType);
      return { ...base, kind: 'offline', eventTimeMs: messageTimeMs, fields: {} };
    }
    case 'channel.update': {
      const event = parsePayload(channelUpdateEventSchema, notification.event, subscriptionType);
      return {
        ...base,
        kind: 'update',
        eventTimeMs: messageTimeMs,
        fields: {
          title: event.title === '' ? null : event.title,
          category: event.category_name === '' ? null : event.category_name,
        },
      };
    }
  }
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
