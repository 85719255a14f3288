import { z } from 'zod';
import { YOUTUBE_CHANNEL_ID_PATTERN, YOUTUBE_VIDEO_ID_PATTERN } from './youtube-ids.js';

/**
 * The parts of YouTube Data API v3 resources we read
 * (https://developers.google.com/youtube/v3/docs/videos). Objects are not strict: Google adds
 * fields. `concurrentViewers` is a uint64, which the API writes as a decimal string.
 */
const isoTime = z.string().max(40).refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 time');

export const videoResourceSchema = z.object({
  id: z.string().regex(YOUTUBE_VIDEO_ID_PATTERN),
  snippet: z.object({
    channelId: z.string().regex(YOUTUBE_CHANNEL_ID_PATTERN),
    title: z.string().max(1000),
    /** `live`, `upcoming` or `none`. */
    liveBroadcastContent: z.string().max(32),
  }),
  liveStreamingDetails: z
    .object({
      actualStartTime: isoTime.optional(),
      actualEndTime: isoTime.optional(),
      scheduledStartTime: isoTime.optional(),
      concurrentViewers: z.string().regex(/^[0-9]{1,19}$/).optional(),
    })
    .optional(),
});
export type VideoResource = z.infer<typeof videoResourceSchema>;

/** `videos.list`, `channels.list`, `playlistItems.list`: items are parsed one by one. */
export const listResponseSchema = z.object({
  items: z.array(z.unknown()).max(50).default([]),
  nextPageToken: z.string().optional(),
});

export const channelResourceSchema = z.object({
  id: z.string().regex(YOUTUBE_CHANNEL_ID_PATTERN),
  contentDetails: z.object({
    relatedPlaylists: z.object({ uploads: z.string().regex(/^[A-Za-z0-9_-]{2,64}$/).optional() }),
  }),
});

export const playlistItemResourceSchema = z.object({
  contentDetails: z.object({ videoId: z.string().regex(YOUTUBE_VIDEO_ID_PATTERN) }),
});

/** Google's JSON error body: `{ "error": { "code", "message", "errors": [{ "domain", "reason", "message" }] } }`. */
export const googleErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    errors: z.array(z.object({ domain: z.string().optional(), reason: z.string().optional() })).optional(),
  }),
});

/** Reasons meaning the project's quota is spent until the Pacific midnight. */
export const QUOTA_EXHAUSTED_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded']);
