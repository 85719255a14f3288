import type { ProviderEventAdapter } from '../provider-adapter/index.js';
import { blueskyEventAdapter } from './bluesky/index.js';
import { twitchEventAdapter } from './twitch/index.js';
import { youTubeEventAdapter } from './youtube/index.js';

/**
 * Every provider whose raw events the pipeline maps. The composition root hands this list to the
 * pipeline; a new provider is its own folder plus one row here.
 */
export const PROVIDER_ADAPTERS: readonly ProviderEventAdapter[] = [twitchEventAdapter, youTubeEventAdapter, blueskyEventAdapter];
