import { Counter, Gauge, type Registry } from 'prom-client';
import type { QuotaBudget, QuotaSnapshot } from './quota-budget.js';

/** The YouTube provider's metric names, one table (to merge into `METRIC_NAMES`). */
export const YOUTUBE_METRIC_NAMES = {
  apiCalls: 'live_upload_youtube_api_calls_total',
  quotaUsed: 'live_upload_youtube_quota_used_units',
  quotaHeld: 'live_upload_youtube_quota_held_units',
  quotaRemaining: 'live_upload_youtube_quota_remaining_units',
  quotaLimit: 'live_upload_youtube_quota_limit_units',
  quotaExhausted: 'live_upload_youtube_quota_exhausted',
  notifications: 'live_upload_youtube_websub_notifications_total',
  verifications: 'live_upload_youtube_websub_verifications_total',
  subscribeRequests: 'live_upload_youtube_websub_subscribe_requests_total',
  observations: 'live_upload_youtube_observations_total',
  polls: 'live_upload_youtube_polls_total',
  poller: 'live_upload_youtube_poller',
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
  /** 1 while this process holds the poller lease and ticks: across the fleet, the sum is 1. */
  readonly poller: Gauge;
}

/**
 * Registers the YouTube metrics on the app's registry. The quota gauges read the fleet's
 * ledger at scrape time (the last one seen when the bus is down), so another process's spend,
 * Google's `quotaExceeded` there and a Pacific-midnight reset show without any event here.
 */
export function createYouTubeMetrics(registry: Registry, quota: QuotaBudget, now: () => number = Date.now): YouTubeMetrics {
  const registers = [registry];
  const quotaGauge = (name: string, help: string, read: (snapshot: QuotaSnapshot) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.set(read(await quota.refresh(now())));
      },
    });
  quotaGauge(YOUTUBE_METRIC_NAMES.quotaUsed, 'YouTube Data API quota units the whole fleet claimed today (Pacific day): spent, or held by a process', (s) => s.claimedUnits);
  quotaGauge(YOUTUBE_METRIC_NAMES.quotaHeld, 'YouTube Data API quota units this process claimed and has not spent yet (the fleet spent used minus the sum of held)', (s) => s.heldUnits);
  quotaGauge(YOUTUBE_METRIC_NAMES.quotaRemaining, 'YouTube Data API quota units this process may still spend today: unclaimed by the fleet plus its held units', (s) => s.remainingUnits);
  quotaGauge(YOUTUBE_METRIC_NAMES.quotaLimit, 'YouTube Data API daily quota of the whole fleet (one Google Cloud project)', (s) => s.limitUnits);
  quotaGauge(YOUTUBE_METRIC_NAMES.quotaExhausted, '1 while the YouTube quota is spent (whole limit claimed, or quotaExceeded in any process) until the Pacific midnight', (s) => (s.exhausted ? 1 : 0));
  return {
    apiCalls: new Counter({ name: YOUTUBE_METRIC_NAMES.apiCalls, help: 'YouTube Data API calls by method and outcome', labelNames: ['method', 'outcome'], registers }),
    notifications: new Counter({ name: YOUTUBE_METRIC_NAMES.notifications, help: 'WebSub notifications by outcome', labelNames: ['outcome'], registers }),
    verifications: new Counter({ name: YOUTUBE_METRIC_NAMES.verifications, help: 'WebSub verification requests by mode and outcome', labelNames: ['mode', 'outcome'], registers }),
    subscribeRequests: new Counter({ name: YOUTUBE_METRIC_NAMES.subscribeRequests, help: 'Subscribe/unsubscribe requests sent to the hub by outcome', labelNames: ['mode', 'outcome'], registers }),
    observations: new Counter({ name: YOUTUBE_METRIC_NAMES.observations, help: 'Confirmed observations published, by kind and source', labelNames: ['kind', 'source'], registers }),
    polls: new Counter({ name: YOUTUBE_METRIC_NAMES.polls, help: 'Polling-fallback channel checks by outcome', labelNames: ['outcome'], registers }),
    poller: new Gauge({ name: YOUTUBE_METRIC_NAMES.poller, help: '1 while this process holds the YouTube poller lease and ticks (one process of the fleet)', registers }),
  };
}
