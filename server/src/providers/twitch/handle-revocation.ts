import { AUDIT_ACTIONS, type AuditLog } from '../../audit/index.js';
import type { ChannelRegistry } from '../../channels/index.js';
import type { EventSubSubscription } from './eventsub-message.js';

/**
 * Twitch withdrew a subscription (`authorization_revoked`, `user_removed`,
 * `notification_failures_exceeded`, `version_removed`): mark the channel's Twitch link revoked
 * and audit it. Returns the channel, when the broadcaster was linked.
 */
export async function handleTwitchRevocation(
  deps: { channels: ChannelRegistry; audit: AuditLog },
  subscription: EventSubSubscription,
  messageId: string,
): Promise<string | undefined> {
  const broadcaster = subscription.condition['broadcaster_user_id'];
  const accountId = typeof broadcaster === 'string' ? broadcaster : undefined;
  const channel = accountId === undefined ? undefined : await deps.channels.markRevoked('twitch', accountId, subscription.status);
  await deps.audit.record({
    actor: 'twitch',
    action: AUDIT_ACTIONS.providerRevoked,
    target: channel ?? `twitch:${accountId ?? 'unknown'}`,
    reason: subscription.status,
    details: { subscription_id: subscription.id, subscription_type: subscription.type, message_id: messageId },
  });
  return channel;
}
