export { OutboundWebhooks, type OutboundSettings, type OutboundWebhooksOptions } from './outbound-webhooks.js';
export { OutboundAdmin, DEFAULT_PREVIOUS_SECRET_TTL_MS, MAX_LISTED_DELIVERIES } from './outbound-admin.js';
export { subscriberCreateSchema, subscriberUpdateSchema, secretRotationSchema, SUBSCRIBER_ID_PATTERN } from './subscriber.js';
export { DEFAULT_RETRY_SCHEDULE_MS, nextRetryDelayMs } from './retry-schedule.js';
export { OUTBOUND_EVENT_TYPES, type OutboundEventType } from './outbound-event.js';
export { OUTBOUND_AUDIT_ACTIONS } from './outbound-audit.js';
export { OUTBOUND_METRIC_NAMES } from './outbound-metrics.js';
export { WEBHOOK_HEADERS, signWebhook, webhookHeaders } from './sign-webhook.js';
export { generateWebhookSecret, parseWebhookSecret, WEBHOOK_SECRET_PREFIX } from './webhook-secret.js';
export { pinnedLookup } from './pinned-lookup.js';
export { createSenderAgents, sendWebhook, type SenderAgents } from './send-webhook.js';
export {
  resolveDeliveryTarget,
  parseWebhookUrl,
  DeliveryRefusedError,
  HostUnresolvedError,
  WebhookUrlError,
  type ResolveHost,
  type ResolvedAddress,
} from './delivery-target.js';
