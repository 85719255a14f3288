export {
  YOUTUBE_CHANNEL_ID_PATTERN,
  YOUTUBE_VIDEO_ID_PATTERN,
  YOUTUBE_FEED_TOPIC_BASE,
  isYouTubeChannelId,
  isYouTubeVideoId,
  youTubeFeedTopic,
  channelIdOfTopic,
} from './youtube-ids.js';
export { HUB_SIGNATURE_HEADER, checkHubSignature, type HubSignatureCheck, type HubSignatureInput } from './hub-signature.js';
export {
  YOUTUBE_FEED_NAMESPACES,
  YOUTUBE_FEED_MAX_BYTES,
  YOUTUBE_FEED_MAX_ENTRIES,
  parseYouTubeFeed,
  type YouTubeFeedEntry,
  type YouTubeDeletedEntry,
  type YouTubeFeedItem,
  type YouTubeFeedResult,
} from './youtube-feed.js';
export {
  YOUTUBE_QUOTA_COSTS,
  DEFAULT_YOUTUBE_DAILY_QUOTA_UNITS,
  DEFAULT_QUOTA_RESERVATION_UNITS,
  pacificDayKey,
  nextPacificMidnightMs,
  quotaLedgerKey,
  quotaLedgerSchema,
  decideQuotaReservation,
  type QuotaLedger,
  type QuotaRefusalReason,
  type YouTubeApiMethod,
} from './quota-ledger.js';
export { QuotaBudget, type QuotaBudgetOptions, type QuotaSnapshot, type QuotaSpendResult } from './quota-budget.js';
export {
  DEFAULT_WEBSUB_LEASE_SECONDS,
  isLeaseFresh,
  leaseExpiresAtMs,
  leaseRenewAtMs,
  subscribeRetryDelayMs,
  type WebSubLease,
} from './lease-schedule.js';
export {
  answerWebSubVerification,
  webSubSubscriptionSchema,
  type WebSubMode,
  type WebSubSubscription,
  type WebSubVerificationAnswer,
  type WebSubVerificationQuery,
} from './websub-subscription.js';
export { WebSubSubscriptionStore } from './websub-subscription-store.js';
export { WebSubSubscriber, WEBSUB_CALLBACK_CHANNEL_PARAM, type WebSubSubscriberOptions } from './websub-subscriber.js';
export { YouTubeDataApi, type ApiResult, type YouTubeDataApiOptions } from './data-api-client.js';
export { videoResourceSchema, type VideoResource } from './data-api-resources.js';
export {
  YOUTUBE_OBSERVATION_KINDS,
  YOUTUBE_RAW_MESSAGE_TYPE,
  youTubeObservationSchema,
  youTubeObservationId,
  observationTimeMs,
  readYouTubeRawEvent,
  toRawProviderEvent,
  type YouTubeObservation,
  type YouTubeObservationKind,
  type YouTubeObservationSource,
} from './youtube-observation.js';
export { mapYouTubeObservation, type YouTubeObservationInput } from './map-observation.js';
export { youTubeEventAdapter } from './youtube-event-adapter.js';
export { decideObservation, type LiveVideoRecord, type ObservationDecision } from './decide-observation.js';
export { YouTubeHintQueue, hintFromFeedItem, hintMsgId, youTubeHintSchema, type YouTubeHint } from './youtube-hint.js';
export {
  YOUTUBE_METRIC_NAMES,
  YOUTUBE_NOTIFICATION_OUTCOMES,
  createYouTubeMetrics,
  type YouTubeMetrics,
  type YouTubeNotificationOutcome,
} from './youtube-metrics.js';
export { YouTubeLivePoller, DEFAULT_YOUTUBE_POLL_INTERVAL_MS, type YouTubeChannelDirectory } from './live-poller.js';
export { providerLinksDirectory } from './provider-links-directory.js';
export { YouTubeProvider, YOUTUBE_DEFAULTS, type YouTubeProviderOptions } from './youtube-provider.js';
