/**
 * Atom feeds as YouTube's hub pushes them, written from
 * https://developers.google.com/youtube/v3/guides/push_notifications and independent of our
 * parser: plain string templates with their own escaping.
 */

export const ATOM_NS = 'http://www.w3.org/2005/Atom';
export const YT_NS = 'http://www.youtube.com/xml/schemas/2015';
export const TOMBSTONES_NS = 'http://purl.org/atompub/tombstones/1.0';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** `2015-04-01T19:05:24.552394234+00:00`: how YouTube writes feed times (nanoseconds, numeric offset). */
export function youTubeFeedTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1394234+00:00');
}

export interface FeedVideo {
  readonly videoId: string;
  readonly channelId: string;
  readonly title?: string;
  readonly channelTitle?: string;
  readonly publishedAtMs?: number;
  readonly updatedAtMs?: number;
}

/** A notification that a video was published or its title or description changed. */
export function videoFeed(video: FeedVideo): string {
  const updated = video.updatedAtMs ?? Date.now();
  const published = video.publishedAtMs ?? updated;
  const title = escapeXml(video.title ?? 'Video title');
  return `<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:yt="${YT_NS}" xmlns="${ATOM_NS}">
  <link rel="hub" href="https://pubsubhubbub.appspot.com"/>
  <link rel="self" href="https://www.youtube.com/xml/feeds/videos.xml?channel_id=${video.channelId}"/>
  <title>YouTube video feed</title>
  <updated>${youTubeFeedTime(updated)}</updated>
  <entry>
    <id>yt:video:${video.videoId}</id>
    <yt:videoId>${video.videoId}</yt:videoId>
    <yt:channelId>${video.channelId}</yt:channelId>
    <title>${title}</title>
    <link rel="alternate" href="http://www.youtube.com/watch?v=${video.videoId}"/>
    <author>
     <name>${escapeXml(video.channelTitle ?? 'Channel title')}</name>
     <uri>http://www.youtube.com/channel/${video.channelId}</uri>
    </author>
    <published>${youTubeFeedTime(published)}</published>
    <updated>${youTubeFeedTime(updated)}</updated>
  </entry>
</feed>
`;
}

/** A notification that a video was deleted. */
export function deletedVideoFeed(video: { videoId: string; channelId: string; deletedAtMs?: number; channelTitle?: string }): string {
  return `<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:at="${TOMBSTONES_NS}" xmlns="${ATOM_NS}">
  <at:deleted-entry ref="yt:video:${video.videoId}" when="${youTubeFeedTime(video.deletedAtMs ?? Date.now())}">
    <link href="http://www.youtube.com/watch?v=${video.videoId}"/>
    <at:by>
     <name>${escapeXml(video.channelTitle ?? 'Channel title')}</name>
     <uri>http://www.youtube.com/channel/${video.channelId}</uri>
    </at:by>
  </at:deleted-entry>
</feed>
`;
}
