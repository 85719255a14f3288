import { AppError } from '../../errors/index.js';
import type { RawProviderEvent } from '../../provider-adapter/index.js';
import { EVENTSUB_HEADERS, EVENTSUB_HEADERS_LOWER, EVENTSUB_MESSAGE_TYPES, isEventSubMessageType } from './eventsub-headers.js';
import {
  eventSubRevocationBodySchema,
  eventSubVerificationBodySchema,
  type EventSubNotificationEnvelope,
  type EventSubSubscription,
} from './eventsub-message.js';
import { checkEventSubTimestamp, verifyEventSubSignature } from './verify-signature.js';

/** Strict: a body that is not valid UTF-8 is a 400, not replacement characters. Stateless between calls. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What a verified EventSub request asks of us. */
export type EventSubDelivery =
  | { readonly kind: 'verification'; readonly challenge: string; readonly subscription: EventSubSubscription }
  | { readonly kind: 'revocation'; readonly subscription: EventSubSubscription; readonly messageId: string }
  | { readonly kind: 'notification'; readonly event: RawProviderEvent; readonly subscription: EventSubNotificationEnvelope['subscription'] };

export interface EventSubRequest {
  /** Case-insensitive header lookup. */
  readonly header: (name: string) => string | undefined;
  readonly rawBody: Uint8Array;
  readonly secret: string;
  readonly nowMs: number;
  /** `nowMs` as an ISO string, when the caller already has it (a burst shares one per millisecond); else made from `nowMs`. */
  readonly receivedAt?: string;
}

/**
 * Verifies and classifies one EventSub webhook request. Pure: no I/O. Order matters: the
 * headers, the timestamp and the HMAC over the raw bytes are checked before the body is
 * even parsed, so an unauthenticated caller learns nothing about our parser.
 * Throws `AppError`: 403 for anything unauthenticated, 400 for a signed but malformed body.
 */
export function readEventSubDelivery(request: EventSubRequest): EventSubDelivery {
  // Lowercase names: what Node's headers are keyed by, so a lookup lowercases nothing.
  const messageId = request.header(EVENTSUB_HEADERS_LOWER.messageId);
  const timestamp = request.header(EVENTSUB_HEADERS_LOWER.messageTimestamp);
  const signature = request.header(EVENTSUB_HEADERS_LOWER.messageSignature);
  const messageType = request.header(EVENTSUB_HEADERS_LOWER.messageType);
  if (!messageId || !timestamp || !signature || !messageType) {
    const name = !messageId
      ? EVENTSUB_HEADERS.messageId
      : !timestamp
        ? EVENTSUB_HEADERS.messageTimestamp
        : !signature
          ? EVENTSUB_HEADERS.messageSignature
          : EVENTSUB_HEADERS.messageType;
    throw new AppError('signature_invalid', `missing header ${name}`);
  }
  if (messageId.length > 256) throw new AppError('signature_invalid', `${EVENTSUB_HEADERS.messageId} is too long`);

  const age = checkEventSubTimestamp(timestamp, request.nowMs);
  if (age !== 'ok') {
    throw new AppError('timestamp_stale', age === 'invalid' ? 'message timestamp is not RFC 3339' : `message timestamp is ${age === 'stale' ? 'older than 10 minutes' : 'in the future'}`);
  }
  const verified = verifyEventSubSignature({
    secret: request.secret,
    messageId,
    timestamp,
    rawBody: request.rawBody,
    signature,
  });
  if (!verified) throw new AppError('signature_invalid', 'signature does not match the message');

  let text: string;
  let body: unknown;
  try {
    text = UTF8.decode(request.rawBody);
    body = JSON.parse(text);
  } catch (error) {
    throw new AppError('invalid_json', 'body is not valid UTF-8 JSON', { cause: error });
  }
  if (!isEventSubMessageType(messageType)) {
    throw new AppError('bad_request', `unknown ${EVENTSUB_HEADERS.messageType}`);
  }

  switch (messageType) {
    case EVENTSUB_MESSAGE_TYPES.verification: {
      const parsed = eventSubVerificationBodySchema.safeParse(body);
      if (!parsed.success) throw new AppError('invalid_body', 'verification body needs challenge and subscription');
      return { kind: 'verification', challenge: parsed.data.challenge, subscription: parsed.data.subscription };
    }
    case EVENTSUB_MESSAGE_TYPES.revocation: {
      const parsed = eventSubRevocationBodySchema.safeParse(body);
      if (!parsed.success) throw new AppError('invalid_body', 'revocation body needs subscription');
      return { kind: 'revocation', subscription: parsed.data.subscription, messageId };
    }
    case EVENTSUB_MESSAGE_TYPES.notification: {
      const subscription = notificationSubscription(body);
      if (!subscription) throw new AppError('invalid_body', 'notification body needs subscription and event');
      return {
        kind: 'notification',
        subscription,
        event: {
          provider: 'twitch',
          message_id: messageId,
          message_type: messageType,
          subscription_type: subscription.type,
          subscription_version: subscription.version,
          message_timestamp: timestamp,
          received_at: request.receivedAt ?? new Date(request.nowMs).toISOString(),
          body: text,
        },
      };
    }
  }
}

/**
 * What `eventSubNotificationEnvelopeSchema` accepts of a notification, checked by hand: it runs
 * for every webhook, and the schema's parse was a tenth of the webhook's own parsing (bench/ingest).
 * The subscription's type and version, or undefined when the body is not that shape.
 */
function notificationSubscription(body: unknown): EventSubNotificationEnvelope['subscription'] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { subscription, event } = body as { subscription?: unknown; event?: unknown };
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  if (typeof subscription !== 'object' || subscription === null) return undefined;
  const { type, version } = subscription as { type?: unknown; version?: unknown };
  if (typeof type !== 'string' || !hasCodePoints(type, 128)) return undefined;
  if (typeof version !== 'string' || !hasCodePoints(version, 16)) return undefined;
  return { type, version };
}

/** One to `max` code points, as the schema's `min(1).max(max)` counts them (a UTF-16 pair is one). */
function hasCodePoints(text: string, max: number): boolean {
  if (text.length <= max) return text.length > 0;
  let count = 0;
  for (const _ of text) if (++count > max) return false;
  return true;
}
