export { SCHEMA_VERSION, type SchemaVersion } from './version.js';
export { CHANNEL_PART_PATTERN, parseChannelRef, formatChannelRef, type ChannelRef } from './channel-ref.js';
export { PROVIDERS, LIVE_STATUSES, isLiveStatus, type ProviderName, type LiveStatus } from './vocabulary.js';
export { canonicalIdChannel, createCanonicalId, parseCanonicalId, isCanonicalId, type ParsedCanonicalId } from './canonical-id.js';
export {
  channelRefSchema,
  liveMetadataSchema,
  liveStatusSummarySchema,
  latestReplaySchema,
  providerLinksSchema,
  twitchLinkSchema,
  youtubeLinkSchema,
  blueskyLinkSchema,
  badgeSchema,
  playbackSchema,
  playbackUrlSchema,
  fieldSourceSchema,
  summarizeLiveMetadata,
  liveMetadataJsonSchema,
  type LiveMetadata,
  type LiveStatusSummary,
  type LatestReplay,
  type ProviderLinks,
  type Badge,
  type Playback,
  type FieldSource,
} from './live-metadata.js';
export { defaultBadge } from './badge.js';
export { isPlaybackUrl, PLAYBACK_URL_MAX_LENGTH } from './playback-url.js';
export { YOUTUBE_CHANNEL_ID_PATTERN, isYoutubeChannelId, isBlueskyDid } from './provider-ids.js';
export {
  BEACON_EVENTS,
  BEACON_SURFACES,
  BEACON_HEARTBEAT_S,
  REFERRAL_PROVIDERS,
  VIEWING_SESSION_PATTERN,
  referralSourceOf,
  originOf,
  type BeaconEvent,
  type BeaconSurface,
  type ReferralProvider,
  type ReferralSource,
} from './audience.js';
export {
  channelPageUrl,
  describeChannelPage,
  oEmbedEndpointUrl,
  parseChannelPageUrl,
  channelJsonLd,
  serializeJsonLd,
  openGraphTags,
  channelOEmbed,
  oEmbedSize,
  OEMBED_CACHE_AGE_SECONDS,
  OEMBED_DEFAULT_SIZE,
  escapeHtml,
  type ChannelPage,
  type ChannelPageInput,
  type Poster,
  type BroadcastEventJsonLd,
  type VideoObjectJsonLd,
  type MetaTag,
  type OEmbedBounds,
  type OEmbedResponse,
} from './discovery/index.js';
