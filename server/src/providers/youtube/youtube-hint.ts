import { z } from 'zod';
import { BusUnavailableError, SUBJECTS, encodeJson, type Bus } from '../../bus/index.js';
import { AppError } from '../../errors/index.js';
import type { YouTubeFeedItem } from './youtube-feed.js';
import { YOUTUBE_CHANNEL_ID_PATTERN, YOUTUBE_VIDEO_ID_PATTERN } from './youtube-ids.js';

/** A signed WebSub notification named this video: worth one `videos.list` to find out what changed. */
export const youTubeHintSchema = z.object({
  kind: z.enum(['entry', 'deleted']),
  video_id: z.string().regex(YOUTUBE_VIDEO_ID_PATTERN),
  channel_id: z.string().regex(YOUTUBE_CHANNEL_ID_PATTERN),
  /** `<updated>` of the entry, or `@when` of the deletion; null when absent. */
  at_ms: z.number().nullable(),
  received_at_ms: z.number(),
});
export type YouTubeHint = z.infer<typeof youTubeHintSchema>;

export function hintFromFeedItem(item: YouTubeFeedItem, channelId: string, receivedAtMs: number): YouTubeHint {
  return {
    kind: item.kind,
    video_id: item.videoId,
    channel_id: channelId,
    at_ms: item.kind === 'entry' ? item.updatedMs : item.deletedAtMs,
    received_at_ms: receivedAtMs,
  };
}

/** The hub's retries of one notification carry the same entry: the same msg id. */
export function hintMsgId(hint: YouTubeHint): string {
  return `youtube-hint:${hint.kind}:${hint.video_id}:${hint.at_ms ?? `received-${hint.received_at_ms}`}`;
}

/**
 * Where the webhook route leaves hints: a durable work queue, so the hub gets its 2xx only
 * once the hint is stored, and a bus that cannot store it is a 503 the hub retries.
 */
export class YouTubeHintQueue {
  constructor(private readonly bus: Bus) {}

  async publish(hint: YouTubeHint): Promise<{ duplicate: boolean }> {
    try {
      const ack = await this.bus.publish(SUBJECTS.youtubeHints, encodeJson(youTubeHintSchema.parse(hint)), { msgId: hintMsgId(hint) });
      return { duplicate: ack.duplicate };
    } catch (error) {
      if (error instanceof BusUnavailableError) {
        throw new AppError('bus_unavailable', 'event bus unavailable; retry later', { cause: error, headers: { 'Retry-After': '5' } });
      }
      throw error;
    }
  }
}
