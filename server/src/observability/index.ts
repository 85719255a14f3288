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
