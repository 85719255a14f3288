import { isCanonicalId } from '@live-upload/schema';
import { z } from 'zod';

/**
 * Where a replay is: queued (job enqueued), transcoding (a worker holds it), then one of the three
 * ends. `external`: no job of ours, only the broadcast's archive elsewhere (`twitch_archive`, for
 * a channel without an HLS source); not final, so a job of the same broadcast still runs.
 */
export const VOD_STATES = ['queued', 'transcoding', 'published', 'failed', 'cancelled', 'external'] as const;
export type VodState = (typeof VOD_STATES)[number];

/** States a replay does not leave (a new job of the same broadcast changes nothing). */
export function isFinalVodState(state: VodState): boolean {
  return state === 'published' || state === 'failed' || state === 'cancelled';
}

/** Why a replay failed, for the publisher and for alerts. */
export const VOD_FAILURE_REASONS = [
  /** The archive or VOD playlist held nothing usable (no segments, a failed ingest, too short). */
  'no-media',
  /** The source was refused or unreachable (SSRF guard, limits, HTTP errors). */
  'source-failed',
  /** ffmpeg failed on every attempt. */
  'transcode-failed',
  /** The job itself was malformed. */
  'invalid-job',
] as const;
export type VodFailureReason = (typeof VOD_FAILURE_REASONS)[number];

export const vodRenditionSchema = z.strictObject({
  name: z.string().min(1).max(40),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  bandwidth: z.number().int().nonnegative(),
  average_bandwidth: z.number().int().nonnegative(),
  codecs: z.string().max(200),
  frame_rate: z.number().nonnegative(),
});
export type VodRendition = z.infer<typeof vodRenditionSchema>;

/**
 * The broadcast's past-broadcast archive on Twitch, as Helix Get Videos described it when the
 * broadcast ended (the archive whose `stream_id` is the Twitch stream of this broadcast).
 */
export const twitchArchiveSchema = z.strictObject({
  /** The Twitch video id. */
  id: z.string().regex(/^\d{1,20}$/),
  /** `https://www.twitch.tv/videos/{id}`. */
  url: z.url({ protocol: /^https?$/ }).max(2048),
  duration_s: z.number().int().nonnegative(),
  /** A template: `%{width}x%{height}` stands for the size wanted. */
  thumbnail_url: z.string().max(2048),
  title: z.string().max(300),
  created_at: z.iso.datetime({ offset: true }),
});
export type TwitchArchive = z.infer<typeof twitchArchiveSchema>;

/**
 * The replay of one broadcast, in the `vods` KV bucket: what the channel's VOD listing shows
 * and what the replay route checks (only `published` ones are served). Written by
 * `enqueueVodJob` (queued), the VOD worker (transcoding, progress, published, failed) and
 * `cancelVod`; every change is a compare-and-set (`VodStore.update`).
 */
export const vodRecordSchema = z.strictObject({
  canonical_id: z.string().refine(isCanonicalId, 'must be stream:{publisher}:{slug}:{ulid}'),
  /** `publisher/slug`. */
  channel: z.string().min(3).max(130),
  state: z.enum(VOD_STATES),
  progress: z.strictObject({ percent: z.number().min(0).max(100), speed: z.number().nonnegative().optional() }).optional(),
  started_at: z.iso.datetime(),
  ended_at: z.iso.datetime().optional(),
  title: z.string().max(300).optional(),
  duration_s: z.number().nonnegative().optional(),
  renditions: z.array(vodRenditionSchema).max(20).optional(),
  /** Absolute paths on this server (`/vod/{publisher}/{slug}/{ulid}/...`). */
  urls: z.strictObject({ master: z.string(), poster: z.string().optional(), storyboard: z.string().optional() }).optional(),
  failure: z.strictObject({ reason: z.enum(VOD_FAILURE_REASONS), message: z.string().max(1000) }).optional(),
  /** Transcodes of this replay that failed so far (the worker gives up at its maximum). */
  attempts: z.number().int().nonnegative().optional(),
  /** The publisher's upload this replay was made of (a `broadcast` upload: `GET /api/v1/uploads/{upload_id}`). */
  upload_id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/).optional(),
  /** The broadcast's Twitch archive, when the channel has a Twitch link (see `TwitchArchiveLookup`). */
  twitch_archive: twitchArchiveSchema.optional(),
  updated_at: z.iso.datetime(),
});
export type VodRecord = z.infer<typeof vodRecordSchema>;
