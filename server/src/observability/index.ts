export { createLogger, type Logger } from './logger.js';
export { createMetrics, METRIC_NAMES, WEBHOOK_OUTCOMES, type Metrics, type WebhookOutcome } from './metrics.js';
