export { createLogger, type Logger } from './logger.js';
export { createMetrics, METRIC_NAMES, PIPELINE_OUTCOMES, WEBHOOK_OUTCOMES, type Metrics, type PipelineOutcome, type WebhookOutcome } from './metrics.js';
