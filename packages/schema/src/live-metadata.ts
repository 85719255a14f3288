import { z } from 'zod';
import { parseChannelRef } from './channel-ref.js';
import { isCanonicalId } from './canonical-id.js';
import { PLAYBACK_URL_MAX_LENGTH, isPlaybackUrl } from './playback-url.js';
import { SCHEMA_VERSION } from './version.js';
import { LIVE_STATUSES } from './vocabulary.js';


/** `{publisher}/{slug}`: what badges subscribe to. */
export const channelRefSchema = z
  .string()
  .refine((value) => parseChannelRef(value) !== undefined, 'must be "{publisher}/{slug}"');

const isoTime = z.iso.datetime({ offset: true });

export const twitchLinkSchema = z.object({
  id: z.string().nullable().describe('Twitch stream id of the current broadcast'),
  user_id: z.string(),
  login: z.string(),
  url: z.url(),
});

export const youtubeLinkSchema = z.object({
  id: z.string().nullable().describe('YouTube video id of the current broadcast'),
  channel_id: z.string(),
  url: z.url(),
});

export const blueskyLinkSchema = z.object({
  did: z.string(),
  post_uri: z.string().nullable(),
});

export const providerLinksSchema = z
  .object({
    twitch: twitchLinkSchema.optional(),
    youtube: youtubeLinkSchema.optional(),
    bluesky: blueskyLinkSchema.optional(),
  })
  .catchall(z.record(z.string(), z.unknown()));

/** An absolute http(s) URL a player may load (see `isPlaybackUrl`). */
export const playbackUrlSchema = z
  .string()
  .max(PLAYBACK_URL_MAX_LENGTH)
  .refine(isPlaybackUrl, 'must be an absolute http(s) URL without credentials, spaces or control characters');

/** Where viewers watch the channel: an HLS playlist. Optional: a channel may have no player. */
export const playbackSchema = z.object({
  hls: playbackUrlSchema.describe('HLS playlist (.m3u8) of the live stream'),
});

export const badgeSchema = z.object({
  label: z.string(),
  color: z.string(),
  animate: z.boolean(),
});

/** Who set a field, and that provider's own timestamp for it. */
export const fieldSourceSchema = z.object({
  provider: z.string(),
  at: isoTime,
});

export const liveMetadataSchema = z.object({
  version: z.literal(SCHEMA_VERSION),
  canonical_id: z.string().refine(isCanonicalId, 'must be stream:{publisher}:{slug}:{ulid}').nullable(),
  channel: channelRefSchema,
  providers: providerLinksSchema,
  status: z.enum(LIVE_STATUSES),
  started_at: isoTime.nullable(),
  ended_at: isoTime.nullable(),
  title: z.string().max(512).nullable(),
  viewer_count: z.number().int().nonnegative().nullable(),
  latency_ms: z.number().int().nonnegative().nullable(),
  is_public: z.boolean(),
  tags: z.array(z.string().max(64)).max(32),
  badge: badgeSchema,
  updated_at: isoTime,
  seq: z.number().int().nonnegative(),
  sources: z.record(z.string(), fieldSourceSchema),
  /** Set from the channel's admin config; absent when the channel has no player. */
  playback: playbackSchema.optional(),
  signature: z.string().optional(),
  raw_event: z.unknown().optional(),
});

export type LiveMetadata = z.infer<typeof liveMetadataSchema>;
export type ProviderLinks = z.infer<typeof providerLinksSchema>;
export type { LiveStatus, ProviderName } from './vocabulary.js';
export type Badge = z.infer<typeof badgeSchema>;
export type Playback = z.infer<typeof playbackSchema>;
export type FieldSource = z.infer<typeof fieldSourceSchema>;

/**
 * A channel's newest published replay, as `/status` lists it: only replays its channel makes
 * public (an unlisted one is served by its own link, never listed). URLs absolute.
 */
export const latestReplaySchema = z.object({
  canonical_id: z.string().refine(isCanonicalId, 'must be stream:{publisher}:{slug}:{ulid}'),
  /** The replay's master playlist (HLS, every rendition). */
  url: z.string(),
  poster: z.string().nullable(),
  duration_s: z.number().nonnegative().nullable(),
  ended_at: isoTime.nullable(),
});
export type LatestReplay = z.infer<typeof latestReplaySchema>;

/**
 * The small, cacheable projection served by `/status` and used by badges. `latest_replay` is
 * added by `/status` (null: no public replay); it is optional because the live-status stream's
 * summaries do not carry it and because a server without replays leaves it out.
 */
export const liveStatusSummarySchema = liveMetadataSchema
  .pick({
    channel: true,
    status: true,
    title: true,
    started_at: true,
    viewer_count: true,
    badge: true,
    seq: true,
  })
  .extend({ latest_replay: latestReplaySchema.nullable().optional() });
export type LiveStatusSummary = z.infer<typeof liveStatusSummarySchema>;

export function summarizeLiveMetadata(record: LiveMetadata): LiveStatusSummary {
  const { channel, status, title, started_at, viewer_count, badge, seq } = record;
  return { channel, status, title, started_at, viewer_count, badge, seq };
}

/** The canonical schema as JSON Schema (draft 2020-12), served at `/schema/{version}.json`. */
export function liveMetadataJsonSchema(): Record<string, unknown> {
  return {
    $id: `/schema/${SCHEMA_VERSION}.json`,
    title: `live-upload canonical live metadata ${SCHEMA_VERSION}`,
    ...z.toJSONSchema(liveMetadataSchema, { io: 'output', unrepresentable: 'any' }),
  };
}
