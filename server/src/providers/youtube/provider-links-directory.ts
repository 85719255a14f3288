import { BUCKETS, type Bus } from '../../bus/index.js';
import type { YouTubeChannelDirectory } from './live-poller.js';
import { isYouTubeChannelId } from './youtube-ids.js';

const PREFIX = 'youtube.';

/**
 * The linked YouTube channels, read from the channel registry's reverse index
 * (`provider-links`: `youtube.{channel id}` -> `{publisher}/{slug}`), so every process sees
 * the same set without asking the registry for all channels.
 */
export async function providerLinksDirectory(bus: Bus): Promise<YouTubeChannelDirectory> {
  const links = await bus.kv(BUCKETS.providerLinks);
  return {
    async linkedYouTubeChannelIds() {
      return (await links.keys(PREFIX)).map((key) => key.slice(PREFIX.length)).filter(isYouTubeChannelId);
    },
  };
}
