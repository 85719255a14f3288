import { channelRefSchema, isBlueskyDid, isYoutubeChannelId, playbackSchema, playbackUrlSchema } from '@live-upload/schema';
import { z } from 'zod';

/** Twitch numeric user id and login, as Helix returns them. */
export const twitchAccountSchema = z.object({
  user_id: z.string().regex(/^[0-9]{1,20}$/, 'must be a numeric Twitch user id'),
  login: z.string().regex(/^[a-z0-9_]{1,25}$/i, 'must be a Twitch login (letters, digits, underscore; max 25)').transform((login) => login.toLowerCase()),
});

/** A YouTube channel, by its channel id (`UC` + 22 characters). */
export const youtubeAccountSchema = z.strictObject({
  channel_id: z.string().max(24).refine(isYoutubeChannelId, 'must be a YouTube channel id (UC followed by 22 letters, digits, - or _)'),
});

/** A Bluesky account, by its DID (`did:plc:…` or `did:web:{host}`). */
export const blueskyAccountSchema = z.strictObject({
  did: z.string().max(261).refine(isBlueskyDid, 'must be a did:plc or host-level did:web DID'),
});

/**
 * Whether viewers may upload to a channel. `off` is the default for every channel (uploads
 * are opt-in: a channel admin turns them on); only the demo channel is created `open`.
 */
export const UPLOAD_POLICIES = ['open', 'off'] as const;
export type UploadPolicy = (typeof UPLOAD_POLICIES)[number];
export const DEFAULT_UPLOAD_POLICY: UploadPolicy = 'off';

/**
 * What becomes of a channel's broadcasts once they end (issue 21): `public` (archived, made a
 * replay, listed to everyone), `unlisted` (archived and made a replay, served to whoever has its
 * link, listed only to the admin), `off` (nothing is archived). The default is `unlisted`: the
 * issue asks that every broadcast becomes a replay, and that a replay is public only when the
 * channel's policy says so; `unlisted` does both for channels that never chose (their replays
 * exist and can be published by switching to `public`, nothing shows up in public listings).
 */
export const VOD_POLICIES = ['public', 'unlisted', 'off'] as const;
export type VodPolicy = (typeof VOD_POLICIES)[number];
export const DEFAULT_VOD_POLICY: VodPolicy = 'unlisted';

/**
 * A channel's own limits for going live into our origin (issue 23: "a maximum bitrate and
 * resolution per channel"). Each is optional and can only lower the server-wide limit
 * (`ORIGIN_MAX_BITRATE_KBPS`, `ORIGIN_MAX_SHORT_SIDE_PX`): the admin API refuses a value above
 * it, and a session takes the lower of the two anyway (the server's limit may be lowered
 * after a channel was written). The bounds are those of the server-wide settings.
 */
export const channelOriginLimitsInputSchema = z.strictObject({
  /** Video + audio, kbps: the answer's `b=AS`, and 25 % more for 5 s ends the session. */
  max_bitrate_kbps: z.number().int().min(100).max(100_000).optional(),
  /** The largest picture taken, by its short side (720: a 1280x720 or a portrait 720x1280 camera). */
  max_short_side_px: z.number().int().min(144).max(4320).optional(),
});
export type ChannelOriginLimitsInput = z.infer<typeof channelOriginLimitsInputSchema>;

/** What the admin API takes: `PUT /api/v1/channels/:publisher/:slug`. */
export const channelInputSchema = z.strictObject({
  title: z.string().trim().min(1).max(140).nullable().optional(),
  /** Omitted: unchanged (a new channel gets `off`). */
  uploads: z.enum(UPLOAD_POLICIES).optional(),
  /** Omitted: unchanged (a new channel gets `unlisted`). */
  vod: z.enum(VOD_POLICIES).optional(),
  /** Omitted: unchanged; `null`: the channel has no player. */
  playback: z.strictObject({ hls: playbackUrlSchema }).nullable().optional(),
  /** Omitted: unchanged; `null` (or `{}`): the server-wide origin limits. */
  origin_limits: channelOriginLimitsInputSchema.nullable().optional(),
  /** The whole set of links: a provider left out is unlinked. */
  providers: z.strictObject({
    twitch: twitchAccountSchema.optional(),
    youtube: youtubeAccountSchema.optional(),
    bluesky: blueskyAccountSchema.optional(),
  }),
});
export type ChannelInput = z.infer<typeof channelInputSchema>;

export const LINK_STATES = ['active', 'revoked'] as const;

export const twitchLinkConfigSchema = z.object({
  user_id: z.string(),
  login: z.string(),
  state: z.enum(LINK_STATES),
  /** Why Twitch revoked the subscription, when it did. */
  revoked_reason: z.string().optional(),
  revoked_at: z.string().optional(),
});

export type TwitchLinkConfig = z.infer<typeof twitchLinkConfigSchema>;

/** What is stored per channel in the `channel-config` bucket. */
export const channelConfigSchema = z.object({
  channel: channelRefSchema,
  title: z.string().nullable(),
  providers: z.object({
    twitch: twitchLinkConfigSchema.optional(),
    youtube: z.object({ channel_id: z.string() }).optional(),
    bluesky: z.object({ did: z.string() }).optional(),
  }),
  /** Where viewers watch; records written before playback existed read as none. */
  playback: playbackSchema.nullable().default(null),
  /** Records written before upload policies existed read as `off`. */
  uploads: z.enum(UPLOAD_POLICIES).default(DEFAULT_UPLOAD_POLICY),
  /** Records written before VOD policies existed read as the default (`unlisted`). */
  vod: z.enum(VOD_POLICIES).default(DEFAULT_VOD_POLICY),
  /** The channel's own origin limits (below the server's); records written before they existed read as none. */
  origin_limits: z
    .object({ max_bitrate_kbps: z.number().int().positive().optional(), max_short_side_px: z.number().int().positive().optional() })
    .nullable()
    .default(null),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ChannelConfig = z.infer<typeof channelConfigSchema>;
