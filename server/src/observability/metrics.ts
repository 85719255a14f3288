import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Metric names, one table. */
export const METRIC_NAMES = {
  webhookResults: 'live_upload_webhook_results_total',
  publishLatency: 'live_upload_bus_publish_seconds',
  sseClients: 'live_upload_sse_clients',
  statusEmits: 'live_upload_status_emits_total',
  httpRequests: 'live_upload_http_requests_total',
  pipelineEvents: 'live_upload_pipeline_events_total',
} as const;

/** Webhook outcomes, one table. */
export const WEBHOOK_OUTCOMES = [
  'accepted',
  'duplicate',
  'verification',
  'revocation',
  'ignored',
  'signature_invalid',
  'timestamp_stale',
  'invalid',
  'too_large',
  'bus_unavailable',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/**
 * What the pipeline did with a raw provider event: `applied` changed the channel's state;
 * `unchanged` met it and changed nothing (older than what the channel has, a replay of an id
 * in its seen set, or the same values again); `ignored` concerns no linked channel or a type we
 * do not map; `malformed` could not be read and was dropped.
 */
export const PIPELINE_OUTCOMES = ['applied', 'unchanged', 'ignored', 'malformed'] as const;
export type PipelineOutcome = (typeof PIPELINE_OUTCOMES)[number];

export interface Metrics {
  readonly registry: Registry;
  readonly webhookResults: Counter<'provider' | 'outcome'>;
  readonly publishLatency: Histogram<'stream'>;
  readonly sseClients: Gauge;
  readonly statusEmits: Counter<'transition'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly pipelineEvents: Counter<'provider' | 'outcome'>;
}

/** A registry per app instance: no module-level singletons, so tests can build many apps. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhookResults: new Counter({
      name: METRIC_NAMES.webhookResults,
      help: 'Provider webhook deliveries by outcome',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
    publishLatency: new Histogram({
      name: METRIC_NAMES.publishLatency,
      help: 'Time from publish to the bus acknowledging it',
      labelNames: ['stream'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    sseClients: new Gauge({
      name: METRIC_NAMES.sseClients,
      help: 'Connected Server-Sent Events clients',
      registers: [registry],
    }),
    statusEmits: new Counter({
      name: METRIC_NAMES.statusEmits,
      help: 'Canonical status changes emitted',
      labelNames: ['transition'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: METRIC_NAMES.httpRequests,
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    pipelineEvents: new Counter({
      name: METRIC_NAMES.pipelineEvents,
      help: 'Raw provider events the pipeline handled, by outcome',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
  };
}
