import type { ProviderEventAdapter } from '../../provider-adapter/index.js';
import { readBlueskyRawEvent } from './bluesky-raw-event.js';
import type { JetstreamCommitEvent } from './jetstream-event.js';
import { mapBlueskyEvent } from './map-bluesky-event.js';

/**
 * Jetstream commits of linked accounts on `live.raw.bluesky`: unverified discovery hints
 * (provenance, never LIVE alone). The DID names the account; a post counts when it links the
 * channel's stream, so mapping reads the channel's Twitch and YouTube links from its config.
 */
export const blueskyEventAdapter: ProviderEventAdapter<JetstreamCommitEvent> = {
  provider: 'bluesky',
  needsChannelConfig: true,
  read: readBlueskyRawEvent,
  accountOf: (event) => event.did,
  map(raw, event, channel, config) {
    const { twitch, youtube } = config!.providers;
    return mapBlueskyEvent({
      channel,
      messageId: raw.message_id,
      event,
      links: { ...(twitch ? { twitchLogin: twitch.login } : {}), ...(youtube ? { youtubeChannelId: youtube.channel_id } : {}) },
    });
  },
};
