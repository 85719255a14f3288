import { YOUTUBE_CHANNEL_ID_PATTERN, isYoutubeChannelId as isYouTubeChannelId } from '@live-upload/schema';

/**
 * YouTube identifiers and the WebSub topic of a channel's feed, as YouTube documents them
 * (https://developers.google.com/youtube/v3/guides/push_notifications).
 */

/** A channel id: `UC` and 22 URL-safe base64 characters (the schema package's pattern and check). */
export { YOUTUBE_CHANNEL_ID_PATTERN, isYouTubeChannelId };
/** A video id: 11 URL-safe base64 characters. */
export const YOUTUBE_VIDEO_ID_PATTERN = /^[A-Za-z0-9_-]{11}$/;

/** The feed every channel publishes, and the topic we subscribe to at the hub. */
export const YOUTUBE_FEED_TOPIC_BASE = 'https://www.youtube.com/xml/feeds/videos.xml' as const;

export function isYouTubeVideoId(value: unknown): value is string {
  return typeof value === 'string' && YOUTUBE_VIDEO_ID_PATTERN.test(value);
}

/** `https://www.youtube.com/xml/feeds/videos.xml?channel_id=UC...`. */
export function youTubeFeedTopic(channelId: string): string {
  if (!isYouTubeChannelId(channelId)) throw new RangeError(`not a YouTube channel id: ${channelId}`);
  return `${YOUTUBE_FEED_TOPIC_BASE}?channel_id=${channelId}`;
}

/** The channel id of a feed topic we would subscribe to; undefined for any other URL. */
export function channelIdOfTopic(topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic.length > 200) return undefined;
  const prefix = `${YOUTUBE_FEED_TOPIC_BASE}?channel_id=`;
  if (!topic.startsWith(prefix)) return undefined;
  const channelId = topic.slice(prefix.length);
  return isYouTubeChannelId(channelId) ? channelId : undefined;
}
