import { AUDIT_ACTIONS, type AuditLog } from '../../audit/index.js';
import type { ChannelRegistry } from '../../channels/index.js';
import type { EventSubSubscription } from './eventsub-message.js';

/**
 * Revocations after which the broadcaster's subscriptions must not come back: the link is
 * marked revoked until an admin links the account again. After the others
 * (`notification_failures_exceeded`, `version_removed`) the subscription manager re-subscribes
 * and the link stays active.
 */
const LINK_ENDING_STATUSES = new Set(['authorization_revoked', 'user_removed']);

/**
 * Twitch withdrew a subscription: audit it, and mark the channel's Twitch link revoked when the
 * broadcaster withdrew consent or is gone. Returns the channel, when the broadcaster was linked.
 */
export async function handleTwitchRevocation(
  deps: { channels: ChannelRegistry; audit: AuditLog },
  subscription: EventSubSubscription,
  messageId: string,
): Promise<string | undefined> {
  const broadcaster = subscription.condition['broadcaster_user_id'];
  const accountId = typeof broadcaster === 'string' ? broadcaster : undefined;
  const channel =
    accountId === undefined
      ? undefined
      : LINK_ENDING_STATUSES.has(subscription.status)
        ? await deps.channels.markRevoked('twitch', accountId, subscription.status)
        : await deps.channels.findByAccount('twitch', accountId);
  await deps.audit.record({
    actor: 'twitch',
    action: AUDIT_ACTIONS.providerRevoked,
    target: channel ?? `twitch:${accountId ?? 'unknown'}`,
    reason: subscription.status,
    details: { subscription_id: subscription.id, subscription_type: subscription.type, message_id: messageId },
  });
  return channel;
}
