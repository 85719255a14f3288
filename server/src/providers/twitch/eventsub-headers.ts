/**
 * Twitch EventSub webhook vocabulary: the request headers Twitch sends and the message types
 * carried in `Twitch-Eventsub-Message-Type`. Header names are case-insensitive on the wire;
 * these are the spellings Twitch documents. Node lowercases incoming names, so compare with
 * `EVENTSUB_HEADERS_LOWER` (or `ctx.get`, which is case-insensitive).
 */
export const EVENTSUB_HEADERS = {
  messageId: 'Twitch-Eventsub-Message-Id',
  messageRetry: 'Twitch-Eventsub-Message-Retry',
  messageType: 'Twitch-Eventsub-Message-Type',
  messageSignature: 'Twitch-Eventsub-Message-Signature',
  messageTimestamp: 'Twitch-Eventsub-Message-Timestamp',
  subscriptionType: 'Twitch-Eventsub-Subscription-Type',
  subscriptionVersion: 'Twitch-Eventsub-Subscription-Version',
} as const;

export type EventSubHeaderKey = keyof typeof EVENTSUB_HEADERS;
export type EventSubHeaderName = (typeof EVENTSUB_HEADERS)[EventSubHeaderKey];

/** The same table, lowercased: how Node's `IncomingMessage.headers` names them. */
export const EVENTSUB_HEADERS_LOWER = {
  messageId: 'twitch-eventsub-message-id',
  messageRetry: 'twitch-eventsub-message-retry',
  messageType: 'twitch-eventsub-message-type',
  messageSignature: 'twitch-eventsub-message-signature',
  messageTimestamp: 'twitch-eventsub-message-timestamp',
  subscriptionType: 'twitch-eventsub-subscription-type',
  subscriptionVersion: 'twitch-eventsub-subscription-version',
} as const satisfies { readonly [K in EventSubHeaderKey]: Lowercase<(typeof EVENTSUB_HEADERS)[K]> };

/** Values of `Twitch-Eventsub-Message-Type`. */
export const EVENTSUB_MESSAGE_TYPES = {
  notification: 'notification',
  verification: 'webhook_callback_verification',
  revocation: 'revocation',
} as const;

export type EventSubMessageType = (typeof EVENTSUB_MESSAGE_TYPES)[keyof typeof EVENTSUB_MESSAGE_TYPES];

const MESSAGE_TYPE_VALUES: readonly string[] = Object.values(EVENTSUB_MESSAGE_TYPES);

export function isEventSubMessageType(value: unknown): value is EventSubMessageType {
  return typeof value === 'string' && MESSAGE_TYPE_VALUES.includes(value);
}

/** Prefix of the signature header value: `sha256=<lowercase hex>`. */
export const EVENTSUB_SIGNATURE_PREFIX = 'sha256=' as const;
