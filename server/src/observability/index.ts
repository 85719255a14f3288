export { createLogger, type Logger } from './logger.js';
export {
  createMetrics,
  METRIC_NAMES,
  PIPELINE_OUTCOMES,
  SSE_REFUSALS,
  SummedCounter,
  WEBHOOK_OUTCOMES,
  type CounterChild,
  type Metrics,
  type PipelineOutcome,
  type SseRefusal,
  type WebhookOutcome,
} from './metrics.js';
export { startMetricsServer, type MetricsServer } from './metrics-server.js';
export {
  createFederationMetrics,
  FEDERATION_ATTEMPT_OUTCOMES,
  FEDERATION_DELIVERY_OUTCOMES,
  FEDERATION_FOLLOW_CHANGES,
  FEDERATION_INBOX_REFUSALS,
  FEDERATION_METRIC_NAMES,
  type FederationAttemptOutcome,
  type FederationDeliveryOutcome,
  type FederationFollowChange,
  type FederationInboxRefusal,
  type FederationMetrics,
} from './federation-metrics.js';
