export {
  EVENTSUB_HEADERS,
  EVENTSUB_HEADERS_LOWER,
  EVENTSUB_MESSAGE_TYPES,
  EVENTSUB_SIGNATURE_PREFIX,
  isEventSubMessageType,
  type EventSubHeaderKey,
  type EventSubHeaderName,
  type EventSubMessageType,
} from './eventsub-headers.js';
export {
  verifyEventSubSignature,
  checkEventSubTimestamp,
  EVENTSUB_MAX_AGE_MS,
  EVENTSUB_MAX_FUTURE_MS,
  type EventSubSignatureInput,
  type EventSubTimestampCheck,
  type EventSubTimestampLimits,
} from './verify-signature.js';
export { signEventSubMessage } from './sign-eventsub-message.js';
export { parseRfc3339 } from './rfc3339.js';
export {
  TWITCH_SUBSCRIPTION_TYPES,
  rfc3339Schema,
  eventSubTransportSchema,
  eventSubSubscriptionSchema,
  eventSubNotificationBodySchema,
  eventSubVerificationBodySchema,
  eventSubRevocationBodySchema,
  streamOnlineEventSchema,
  streamOfflineEventSchema,
  channelUpdateEventSchema,
  type TwitchSubscriptionType,
  type EventSubSubscription,
  type EventSubNotificationBody,
  type EventSubVerificationBody,
  type EventSubRevocationBody,
  type StreamOnlineEvent,
  type StreamOfflineEvent,
  type ChannelUpdateEvent,
} from './eventsub-message.js';
export { twitchEventAdapter } from './twitch-event-adapter.js';
export { readEventSubDelivery, type EventSubDelivery, type EventSubRequest } from './eventsub-delivery.js';
export { handleTwitchRevocation } from './handle-revocation.js';
export { AppAccessToken, TwitchAuthError, type AppAccessTokenOptions } from './app-access-token.js';
export { HelixClient, HelixError, type ArchiveVideoQuery, type HelixClientOptions, type HelixSubscription, type HelixVideo } from './helix-client.js';
export { parseTwitchDuration } from './twitch-duration.js';
export {
  TwitchSubscriptionManager,
  planSubscriptions,
  wantedSubscriptions,
  DEFAULT_RECONCILE_INTERVAL_MS,
  TWITCH_SUBSCRIPTIONS_LEASE_KEY,
  type PeriodicLease,
  type ReconcileReport,
  type RevocationOutcome,
  type SubscriptionManagerOptions,
  type TwitchBroadcasterLink,
} from './subscription-manager.js';
