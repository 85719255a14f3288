import { z } from 'zod';
import type { VideoResource } from './data-api-resources.js';
import { YOUTUBE_CHANNEL_ID_PATTERN, YOUTUBE_VIDEO_ID_PATTERN } from './youtube-ids.js';
import { isVideoLive, type YouTubeObservation, type YouTubeObservationSource } from './youtube-observation.js';

/** What we last published for a video that is live: kept only while it is. */
export const liveVideoRecordSchema = z.object({
  video_id: z.string().regex(YOUTUBE_VIDEO_ID_PATTERN),
  channel_id: z.string().regex(YOUTUBE_CHANNEL_ID_PATTERN),
  actual_start_time: z.string(),
  title: z.string(),
  concurrent_viewers: z.string().nullable(),
  checked_at_ms: z.number(),
});
export type LiveVideoRecord = z.infer<typeof liveVideoRecordSchema>;

export interface ObservationContext {
  readonly videoId: string;
  /** The channel the hint or poll was about; the API item's channel wins when present. */
  readonly channelId: string;
  readonly source: YouTubeObservationSource;
  readonly observedAtMs: number;
  /** `at:deleted-entry/@when`, when the hint was a deletion. */
  readonly deletedAtMs?: number | null;
}

export interface ObservationDecision {
  /** What to publish, if anything changed. */
  readonly observation: YouTubeObservation | null;
  /** The record to keep: a new one, `null` to drop it (not live any more), or `undefined` to leave it. */
  readonly record: LiveVideoRecord | null | undefined;
}

/**
 * Compares what the Data API says now (`video`, null when the API no longer returns it) with
 * what we last published, and decides the one observation to publish. Pure.
 * - live and not known live (or a new actual start): `online`;
 * - live, known, title or viewers changed: `update`;
 * - ended, or gone, while known live: `offline`;
 * - anything else (upcoming, ended long ago, never live): nothing.
 */
export function decideObservation(
  previous: LiveVideoRecord | undefined,
  video: VideoResource | null,
  context: ObservationContext,
): ObservationDecision {
  const observedAt = new Date(context.observedAtMs).toISOString();
  const channelId = video?.snippet.channelId ?? previous?.channel_id ?? context.channelId;
  const observe = (kind: YouTubeObservation['kind']): YouTubeObservation => ({
    kind,
    video_id: context.videoId,
    channel_id: channelId,
    source: context.source,
    observed_at: observedAt,
    video,
    deleted_at: video === null && context.deletedAtMs != null ? new Date(context.deletedAtMs).toISOString() : null,
  });

  if (video && isVideoLive(video)) {
    const details = video.liveStreamingDetails!;
    const record: LiveVideoRecord = {
      video_id: video.id,
      channel_id: video.snippet.channelId,
      actual_start_time: details.actualStartTime!,
      title: video.snippet.title,
      concurrent_viewers: details.concurrentViewers ?? null,
      checked_at_ms: context.observedAtMs,
    };
    if (!previous || previous.actual_start_time !== record.actual_start_time) return { observation: observe('online'), record };
    const changed = previous.title !== record.title || previous.concurrent_viewers !== record.concurrent_viewers;
    return { observation: changed ? observe('update') : null, record };
  }
  if (!previous) return { observation: null, record: undefined };
  return { observation: observe('offline'), record: null };
}
