import { randomBytes } from 'node:crypto';
import type { Logger } from '../../observability/index.js';
import { DEFAULT_WEBSUB_LEASE_SECONDS, WEBSUB_PENDING_TIMEOUT_MS, leaseExpiresAtMs, subscribeRetryDelayMs } from './lease-schedule.js';
import type { WebSubMode, WebSubSubscription } from './websub-subscription.js';
import type { WebSubSubscriptionStore } from './websub-subscription-store.js';
import { youTubeFeedTopic } from './youtube-ids.js';
import type { YouTubeMetrics } from './youtube-metrics.js';

/** The query parameter of our callback URL that names the subscription's channel. */
export const WEBSUB_CALLBACK_CHANNEL_PARAM = 'channel_id';

export interface WebSubSubscriberOptions {
  /** The hub's subscription endpoint: `https://pubsubhubbub.appspot.com/subscribe`. */
  readonly hubUrl: string;
  /** Our public `/webhooks/youtube` URL, as the hub reaches it. */
  /** Our public `/webhooks/youtube` URL (a function when it is known only after listening). */
  readonly callbackUrl: string | (() => string);
  readonly store: WebSubSubscriptionStore;
  readonly metrics: YouTubeMetrics;
  readonly logger: Logger;
  readonly leaseSeconds?: number;
  readonly pendingTimeoutMs?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/**
 * Keeps one WebSub subscription per linked YouTube channel (PubSubHubbub 0.4 / W3C WebSub
 * §5.1): subscribes new channels, renews leases before they run out, retries failures with
 * backoff, and unsubscribes channels that were unlinked. The pending request is stored before
 * the hub is called, because the hub may verify before it answers.
 */
export class WebSubSubscriber {
  private readonly now: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: WebSubSubscriberOptions) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** Our callback URL for one channel's subscription. */
  callbackFor(channelId: string): string {
    const { callbackUrl } = this.options;
    const url = new URL(typeof callbackUrl === 'function' ? callbackUrl() : callbackUrl);
    url.searchParams.set(WEBSUB_CALLBACK_CHANNEL_PARAM, channelId);
    return url.toString();
  }

  /** Brings the hub in line with the linked channels: what is due is sent now. */
  async reconcile(linkedChannelIds: readonly string[]): Promise<void> {
    const nowMs = this.now();
    const linked = new Set(linkedChannelIds);
    for (const channelId of linked) {
      const record = await this.options.store.get(channelId);
      if (!record || record.pending?.mode === 'unsubscribe' || nowMs >= record.next_attempt_at_ms) {
        await this.request(channelId, 'subscribe');
      }
    }
    for (const channelId of await this.options.store.channelIds()) {
      if (linked.has(channelId)) continue;
      const record = await this.options.store.get(channelId);
      if (!record) continue;
      const leaseOver = record.lease === null || leaseExpiresAtMs(record.lease) <= nowMs;
      if (leaseOver && record.pending?.mode !== 'subscribe') {
        await this.options.store.mutate(channelId, () => null);
      } else if (record.pending?.mode === 'unsubscribe' ? nowMs >= record.next_attempt_at_ms : record.failures === 0 || nowMs >= record.next_attempt_at_ms) {
        await this.request(channelId, 'unsubscribe');
      }
    }
  }

  /** Sends one subscribe or unsubscribe to the hub. Resolves to whether the hub accepted it. */
  async request(channelId: string, mode: WebSubMode): Promise<boolean> {
    const { store, metrics, logger } = this.options;
    const leaseSeconds = this.options.leaseSeconds ?? DEFAULT_WEBSUB_LEASE_SECONDS;
    const requestedAtMs = this.now();
    const topic = youTubeFeedTopic(channelId);
    const stored = await store.mutate(channelId, (current): WebSubSubscription | undefined => {
      if (!current && mode === 'unsubscribe') return undefined;
      return {
        channel_id: channelId,
        topic,
        // A renewal keeps its secret: notifications signed with it may still be in flight.
        secret: current?.secret ?? randomBytes(32).toString('base64url'),
        pending: { mode, requested_at_ms: requestedAtMs, lease_seconds: leaseSeconds },
        lease: current?.lease ?? null,
        denied_reason: null,
        failures: current?.failures ?? 0,
        next_attempt_at_ms: requestedAtMs + (this.options.pendingTimeoutMs ?? WEBSUB_PENDING_TIMEOUT_MS),
      };
    });
    if (!stored) return false;

    const form = new URLSearchParams({
      'hub.callback': this.callbackFor(channelId),
      'hub.mode': mode,
      'hub.topic': topic,
      'hub.lease_seconds': String(leaseSeconds),
      'hub.secret': stored.secret,
    });
    let status = 0;
    try {
      const response = await this.fetch(this.options.hubUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      status = response.status;
      await response.body?.cancel();
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.name : 'error', channel_id: channelId, mode }, 'websub hub unreachable');
    }
    // 202: the hub verifies asynchronously; 204: it already did.
    if (status === 202 || status === 204) {
      metrics.subscribeRequests.inc({ mode, outcome: 'accepted' });
      return true;
    }
    metrics.subscribeRequests.inc({ mode, outcome: status === 0 ? 'unreachable' : 'refused' });
    logger.warn({ channel_id: channelId, mode, status }, 'websub hub refused the request');
    await store.mutate(channelId, (current) => {
      // Only our own pending request fails; a verification that landed meanwhile stands.
      if (!current || current.pending?.requested_at_ms !== requestedAtMs) return undefined;
      const failures = current.failures + 1;
      return { ...current, pending: null, failures, next_attempt_at_ms: this.now() + subscribeRetryDelayMs(failures) };
    });
    return false;
  }
}
