import type { ProviderEventAdapter } from '../../provider-adapter/index.js';
import { mapTwitchNotification } from './map-event.js';

/**
 * Twitch EventSub notifications on `live.raw.twitch`: the body is the notification as Twitch
 * sent it; the broadcaster's user id names the account. Only that key is read here; the
 * mapper validates the whole event.
 */
export const twitchEventAdapter: ProviderEventAdapter<unknown> = {
  provider: 'twitch',
  needsChannelConfig: false,
  read: (raw) => (JSON.parse(raw.body) as { event?: unknown } | null)?.event,
  accountOf(event) {
    const broadcaster = typeof event === 'object' && event !== null ? (event as { broadcaster_user_id?: unknown }).broadcaster_user_id : undefined;
    return typeof broadcaster === 'string' ? broadcaster : undefined;
  },
  map: (raw, event, channel) =>
    mapTwitchNotification({
      channel,
      messageId: raw.message_id,
      messageTimestamp: raw.message_timestamp,
      subscriptionType: raw.subscription_type,
      subscriptionVersion: raw.subscription_version,
      event,
    }),
};
