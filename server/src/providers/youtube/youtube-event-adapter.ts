import type { ProviderEventAdapter } from '../../provider-adapter/index.js';
import { mapYouTubeObservation } from './map-observation.js';
import { readYouTubeRawEvent, type YouTubeObservation } from './youtube-observation.js';

/**
 * YouTube observations on `live.raw.youtube`: each was confirmed through the Data API by the
 * provider before it was published; its `channel_id` names the account.
 */
export const youTubeEventAdapter: ProviderEventAdapter<YouTubeObservation> = {
  provider: 'youtube',
  needsChannelConfig: false,
  read: readYouTubeRawEvent,
  accountOf: (observation) => observation.channel_id,
  map: (_raw, observation, channel) => mapYouTubeObservation({ channel, observation }),
};
