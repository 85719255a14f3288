export { createLogger, type Logger } from './logger.js';
export {
  createMetrics,
  METRIC_NAMES,
  PIPELINE_OUTCOMES,
  SummedCounter,
  WEBHOOK_OUTCOMES,
  type CounterChild,
  type Metrics,
  type PipelineOutcome,
  type WebhookOutcome,
} from './metrics.js';
