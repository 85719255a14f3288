import { z } from 'zod';
import { AppError } from '../../errors/index.js';
import type { RawProviderEvent } from '../../provider-adapter/index.js';
import { videoResourceSchema, type VideoResource } from './data-api-resources.js';
import { YOUTUBE_CHANNEL_ID_PATTERN, YOUTUBE_VIDEO_ID_PATTERN } from './youtube-ids.js';

export const YOUTUBE_OBSERVATION_KINDS = ['online', 'offline', 'update'] as const;
export type YouTubeObservationKind = (typeof YOUTUBE_OBSERVATION_KINDS)[number];
export const YOUTUBE_OBSERVATION_SOURCES = ['websub', 'poll'] as const;
export type YouTubeObservationSource = (typeof YOUTUBE_OBSERVATION_SOURCES)[number];

/** `RawProviderEvent.message_type` of every YouTube raw event; `subscription_type` says the kind. */
export const YOUTUBE_RAW_MESSAGE_TYPE = 'videos.list' as const;

const isoTime = z.string().max(40).refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 time');

/**
 * A change the Data API confirmed: the body of a `live.raw.youtube` event. `video` is the
 * `videos.list` item exactly as the API described it (null when the video is gone: deleted
 * or made private while live).
 */
export const youTubeObservationSchema = z.object({
  kind: z.enum(YOUTUBE_OBSERVATION_KINDS),
  video_id: z.string().regex(YOUTUBE_VIDEO_ID_PATTERN),
  channel_id: z.string().regex(YOUTUBE_CHANNEL_ID_PATTERN),
  source: z.enum(YOUTUBE_OBSERVATION_SOURCES),
  /** When the API answered (our clock). The event time of updates. */
  observed_at: isoTime,
  video: videoResourceSchema.nullable(),
  /** `at:deleted-entry/@when`, for a video that disappeared while live. */
  deleted_at: isoTime.nullable(),
});
export type YouTubeObservation = z.infer<typeof youTubeObservationSchema>;

/** Whether a confirmed video is live right now: started and not ended. */
export function isVideoLive(video: VideoResource | null): boolean {
  const details = video?.liveStreamingDetails;
  return details?.actualStartTime !== undefined && details.actualEndTime === undefined;
}

/**
 * The provider's time of an observation, the ordering key: the actual start for online, the
 * actual end (or the deletion) for offline, the API's answer for updates.
 */
export function observationTimeMs(observation: YouTubeObservation): number {
  const details = observation.video?.liveStreamingDetails;
  switch (observation.kind) {
    case 'online':
      return Date.parse(details?.actualStartTime ?? observation.observed_at);
    case 'offline':
      return Date.parse(details?.actualEndTime ?? observation.deleted_at ?? observation.observed_at);
    case 'update':
      return Date.parse(observation.observed_at);
  }
}

/**
 * Stable per observation: the same confirmed fact gets the same id however often it is
 * observed or redelivered (`{video}.online.{start}`, `{video}.offline.{end}`), and an update
 * is keyed by its observation time.
 */
export function youTubeObservationId(observation: YouTubeObservation): string {
  return `${observation.video_id}.${observation.kind}.${observationTimeMs(observation)}`;
}

/** The observation as it travels on `live.raw.youtube` (bus msg id `youtube:{id}`). */
export function toRawProviderEvent(observation: YouTubeObservation): RawProviderEvent {
  const parsed = youTubeObservationSchema.parse(observation);
  return {
    provider: 'youtube',
    message_id: youTubeObservationId(parsed),
    message_type: YOUTUBE_RAW_MESSAGE_TYPE,
    subscription_type: parsed.kind,
    subscription_version: '3',
    message_timestamp: new Date(observationTimeMs(parsed)).toISOString(),
    received_at: parsed.observed_at,
    body: JSON.stringify(parsed),
  };
}

/**
 * Reads the observation back from a raw event (what the pipeline does before the channel
 * lookup by `channel_id`). Throws `AppError('invalid_body')` when it is not one.
 */
export function readYouTubeRawEvent(raw: Pick<RawProviderEvent, 'provider' | 'body'>): YouTubeObservation {
  if (raw.provider !== 'youtube') throw new AppError('invalid_body', 'not a YouTube raw event');
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch (error) {
    throw new AppError('invalid_body', 'YouTube raw event body is not JSON', { cause: error });
  }
  const parsed = youTubeObservationSchema.safeParse(body);
  if (!parsed.success) throw new AppError('invalid_body', 'YouTube raw event body is not an observation', { cause: parsed.error });
  return parsed.data;
}
