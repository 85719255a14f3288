export { SCHEMA_VERSION, type SchemaVersion } from './version.js';
export {
  CHANNEL_PART_PATTERN,
  channelPartSchema,
  channelRefSchema,
  parseChannelRef,
  formatChannelRef,
  type ChannelRef,
} from './channel-ref.js';
export { createCanonicalId, parseCanonicalId, isCanonicalId, type ParsedCanonicalId } from './canonical-id.js';
export {
  PROVIDERS,
  LIVE_STATUSES,
  liveMetadataSchema,
  liveStatusSummarySchema,
  providerLinksSchema,
  twitchLinkSchema,
  youtubeLinkSchema,
  blueskyLinkSchema,
  badgeSchema,
  fieldSourceSchema,
  summarizeLiveMetadata,
  liveMetadataJsonSchema,
  type ProviderName,
  type LiveStatus,
  type LiveMetadata,
  type LiveStatusSummary,
  type ProviderLinks,
  type Badge,
  type FieldSource,
} from './live-metadata.js';
export { defaultBadge } from './badge.js';
