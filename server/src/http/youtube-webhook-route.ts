import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import type { Metrics, WebhookOutcome } from '../observability/index.js';
import {
  HUB_SIGNATURE_HEADER,
  WEBSUB_CALLBACK_CHANNEL_PARAM,
  YOUTUBE_FEED_MAX_BYTES,
  answerWebSubVerification,
  channelIdOfTopic,
  checkHubSignature,
  hintFromFeedItem,
  isYouTubeChannelId,
  parseYouTubeFeed,
  type WebSubSubscriptionStore,
  type WebSubVerificationAnswer,
  type YouTubeHintQueue,
  type YouTubeMetrics,
  type YouTubeNotificationOutcome,
} from '../providers/youtube/index.js';
import type { AppState } from './app-state.js';
import { readRawBody } from './middleware/read-body.js';

export interface YouTubeWebhookDeps {
  readonly subscriptions: WebSubSubscriptionStore;
  readonly hints: YouTubeHintQueue;
  readonly metrics: Metrics;
  readonly youTubeMetrics: YouTubeMetrics;
  readonly now: () => number;
}

/** Media types a hub sends a feed with. */
const FEED_MEDIA_TYPES = ['application/atom+xml', 'application/xml', 'text/xml'];

const SHARED_OUTCOME: Record<YouTubeNotificationOutcome, WebhookOutcome> = {
  accepted: 'accepted',
  duplicate: 'duplicate',
  unsigned: 'signature_invalid',
  signature_invalid: 'signature_invalid',
  unknown_subscription: 'ignored',
  invalid_feed: 'invalid',
};

/**
 * `GET, POST /webhooks/youtube`: the WebSub callback. GET answers the hub's verification of
 * intent for subscriptions we asked for; POST takes content distribution: the signature is
 * checked over the raw body, and a signed feed's entries become hints, stored durably before
 * the 2xx. Unsigned or badly signed notifications are acknowledged (the spec wants a 2xx) and
 * ignored.
 */
export function youTubeWebhookRoute(deps: YouTubeWebhookDeps): Router<AppState> {
  const router = new Router<AppState>();
  const countShared = (outcome: WebhookOutcome) => deps.metrics.webhookResults.inc({ provider: 'youtube', outcome });
  const countNotification = (outcome: YouTubeNotificationOutcome) => {
    deps.youTubeMetrics.notifications.inc({ outcome });
    countShared(SHARED_OUTCOME[outcome]);
  };

  router.get('/webhooks/youtube', async (ctx) => {
    const single = (name: string): string | undefined => {
      const value = ctx.query[name];
      if (Array.isArray(value)) throw new AppError('bad_request', `${name} must be given once`);
      return value;
    };
    const mode = single('hub.mode');
    const query = { mode, topic: single('hub.topic'), challenge: single('hub.challenge'), leaseSeconds: single('hub.lease_seconds'), reason: single('hub.reason') };
    const callbackChannel = single(WEBSUB_CALLBACK_CHANNEL_PARAM);
    const channelId = channelIdOfTopic(query.topic);
    const verificationMode = typeof mode === 'string' && ['subscribe', 'unsubscribe', 'denied'].includes(mode) ? mode : 'invalid';

    let answer: WebSubVerificationAnswer;
    if (channelId === undefined || (callbackChannel !== undefined && callbackChannel !== channelId)) {
      answer = answerWebSubVerification(undefined, query, deps.now());
    } else {
      answer = { kind: 'unknown', reason: 'no subscription for this topic' };
      await deps.subscriptions.mutate(channelId, (current) => {
        answer = answerWebSubVerification(current, query, deps.now());
        return answer.kind === 'confirm' || answer.kind === 'denied' ? answer.record : undefined;
      });
    }
    deps.youTubeMetrics.verifications.inc({ mode: verificationMode, outcome: answer.kind });
    switch (answer.kind) {
      case 'malformed':
        countShared('invalid');
        throw new AppError('bad_request', answer.reason);
      case 'unknown':
        countShared('ignored');
        throw new AppError('not_found', answer.reason);
      case 'denied':
        countShared('revocation');
        ctx.status = 204;
        return;
      case 'confirm':
        countShared('verification');
        ctx.status = 200;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.body = answer.challenge;
        return;
    }
  });

  router.post('/webhooks/youtube', async (ctx) => {
    if (!ctx.is(FEED_MEDIA_TYPES)) {
      countShared('invalid');
      throw new AppError('unsupported_media_type', 'Content-Type must be application/atom+xml');
    }
    let rawBody: Buffer;
    try {
      rawBody = await readRawBody(ctx, YOUTUBE_FEED_MAX_BYTES);
    } catch (error) {
      countShared(error instanceof AppError && error.code === 'payload_too_large' ? 'too_large' : 'invalid');
      throw error;
    }
    const receivedAtMs = deps.now();
    ctx.status = 204;

    const channelId = notifiedChannel(ctx.query[WEBSUB_CALLBACK_CHANNEL_PARAM], ctx.get('link'));
    const subscription = channelId === undefined ? undefined : await deps.subscriptions.get(channelId);
    if (!subscription) {
      countNotification('unknown_subscription');
      return;
    }
    const signature = checkHubSignature({ secret: subscription.secret, rawBody, signature: ctx.get(HUB_SIGNATURE_HEADER) || undefined });
    if (signature !== 'valid') {
      countNotification(signature === 'unsigned' ? 'unsigned' : 'signature_invalid');
      ctx.state.log?.warn({ channel_id: subscription.channel_id, signature }, 'youtube notification not signed by the hub; ignored');
      return;
    }
    const feed = parseYouTubeFeed(rawBody);
    if (!feed.ok) {
      countNotification('invalid_feed');
      ctx.state.log?.warn({ channel_id: subscription.channel_id, reason: feed.reason }, 'youtube notification is not a feed we read; ignored');
      return;
    }
    let fresh = 0;
    for (const item of feed.items) {
      // A signed feed still only speaks for the channel it was subscribed for.
      const itemChannel = item.kind === 'entry' ? item.channelId : (item.channelId ?? subscription.channel_id);
      if (itemChannel !== subscription.channel_id) continue;
      try {
        const { duplicate } = await deps.hints.publish(hintFromFeedItem(item, subscription.channel_id, receivedAtMs));
        if (!duplicate) fresh++;
      } catch (error) {
        if (error instanceof AppError && error.code === 'bus_unavailable') countShared('bus_unavailable');
        throw error;
      }
    }
    countNotification(fresh === 0 && feed.items.length > 0 ? 'duplicate' : 'accepted');
  });

  return router;
}

/**
 * The channel a notification is for: the `channel_id` our callback URL carries, else the
 * `rel="self"` topic of the `Link` header the hub sends with content distribution.
 */
function notifiedChannel(callbackParam: string | string[] | undefined, link: string): string | undefined {
  if (typeof callbackParam === 'string') return isYouTubeChannelId(callbackParam) ? callbackParam : undefined;
  if (callbackParam !== undefined || link.length > 2048) return undefined;
  for (const part of link.split(',')) {
    const match = /^\s*<([^>]*)>\s*;\s*rel="?self"?\s*$/i.exec(part);
    if (match) return channelIdOfTopic(match[1]);
  }
  return undefined;
}
