import { Counter, Gauge, type Registry } from 'prom-client';
import type { QuotaBudget } from './quota-budget.js';

/** The YouTube provider's metric names, one table (to merge into `METRIC_NAMES`). */
export const YOUTUBE_METRIC_NAMES = {
  apiCalls: 'live_upload_youtube_api_calls_total',
  quotaUsed: 'live_upload_youtube_quota_used_units',
  quotaRemaining: 'live_upload_youtube_quota_remaining_units',
  quotaLimit: 'live_upload_youtube_quota_limit_units',
  quotaExhausted: 'live_upload_youtube_quota_exhausted',
  notifications: 'live_upload_youtube_websub_notifications_total',
  verifications: 'live_upload_youtube_websub_verifications_total',
  subscribeRequests: 'live_upload_youtube_websub_subscribe_requests_total',
  observations: 'live_upload_youtube_observations_total',
  polls: 'live_upload_youtube_polls_total',
} as const;

/** What happened to a POSTed notification (all but the HTTP-level refusals are answered 2xx). */
export const YOUTUBE_NOTIFICATION_OUTCOMES = [
  'accepted',
  'duplicate',
  'unsigned',
  'signature_invalid',
  'unknown_subscription',
  'invalid_feed',
] as const;
export type YouTubeNotificationOutcome = (typeof YOUTUBE_NOTIFICATION_OUTCOMES)[number];

export interface YouTubeMetrics {
  readonly apiCalls: Counter<'method' | 'outcome'>;
  readonly notifications: Counter<'outcome'>;
  readonly verifications: Counter<'mode' | 'outcome'>;
  readonly subscribeRequests: Counter<'mode' | 'outcome'>;
  readonly observations: Counter<'kind' | 'source'>;
  readonly polls: Counter<'outcome'>;
}

/**
 * Registers the YouTube metrics on the app's registry. The quota gauges read the budget at
 * scrape time, so a Pacific-midnight reset shows without any event.
 */
export function createYouTubeMetrics(registry: Registry, quota: QuotaBudget, now: () => number = Date.now): YouTubeMetrics {
  const registers = [registry];
  new Gauge({
    name: YOUTUBE_METRIC_NAMES.quotaUsed,
    help: 'YouTube Data API quota units spent today (Pacific day)',
    registers,
    collect() {
      this.set(quota.snapshot(now()).usedUnits);
    },
  });
  new Gauge({
    name: YOUTUBE_METRIC_NAMES.quotaRemaining,
    help: 'YouTube Data API quota units left today',
    registers,
    collect() {
      this.set(quota.snapshot(now()).remainingUnits);
    },
  });
  new Gauge({
    name: YOUTUBE_METRIC_NAMES.quotaLimit,
    help: 'YouTube Data API daily quota budget',
    registers,
    collect() {
      this.set(quota.snapshot(now()).limitUnits);
    },
  });
  new Gauge({
    name: YOUTUBE_METRIC_NAMES.quotaExhausted,
    help: '1 while the YouTube quota is spent (budget or quotaExceeded) until the Pacific midnight',
    registers,
    collect() {
      this.set(quota.snapshot(now()).exhausted ? 1 : 0);
    },
  });
  return {
    apiCalls: new Counter({ name: YOUTUBE_METRIC_NAMES.apiCalls, help: 'YouTube Data API calls by method and outcome', labelNames: ['method', 'outcome'], registers }),
    notifications: new Counter({ name: YOUTUBE_METRIC_NAMES.notifications, help: 'WebSub notifications by outcome', labelNames: ['outcome'], registers }),
    verifications: new Counter({ name: YOUTUBE_METRIC_NAMES.verifications, help: 'WebSub verification requests by mode and outcome', labelNames: ['mode', 'outcome'], registers }),
    subscribeRequests: new Counter({ name: YOUTUBE_METRIC_NAMES.subscribeRequests, help: 'Subscribe/unsubscribe requests sent to the hub by outcome', labelNames: ['mode', 'outcome'], registers }),
    observations: new Counter({ name: YOUTUBE_METRIC_NAMES.observations, help: 'Confirmed observations published, by kind and source', labelNames: ['kind', 'source'], registers }),
    polls: new Counter({ name: YOUTUBE_METRIC_NAMES.polls, help: 'Polling-fallback channel checks by outcome', labelNames: ['outcome'], registers }),
  };
}
