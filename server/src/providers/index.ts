import { originEventAdapter } from '../origin/origin-adapter.js';
import type { ProviderEventAdapter } from '../provider-adapter/index.js';
import { blueskyEventAdapter } from './bluesky/index.js';
import { twitchEventAdapter } from './twitch/index.js';
import { youTubeEventAdapter } from './youtube/index.js';

/**
 * Every provider whose raw events the pipeline maps. The composition root hands this list to the
 * pipeline; a new provider is its own folder plus one row here. `publicUrl` is our public base
 * URL (read per event: known only once the server listens): our origin's player URLs are on it.
 */
export function providerEventAdapters(publicUrl: () => string): readonly ProviderEventAdapter[] {
  return [twitchEventAdapter, youTubeEventAdapter, blueskyEventAdapter, originEventAdapter(publicUrl)];
}
