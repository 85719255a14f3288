import { Registry } from 'prom-client';
import { AuditLog } from '../../server/src/audit/index.js';
import type { Bus } from '../../server/src/bus/index.js';
import { createLogger } from '../../server/src/observability/index.js';
import { OutboundWebhooks, type OutboundSettings } from '../../server/src/outbound/outbound-webhooks.js';

/**
 * Outbound webhooks on `bus` as a test or bench runs them: receivers on 127.0.0.1 over http,
 * silent logs, metrics on a registry of their own; `settings` override the rest.
 */
export function openLoopbackOutbound(bus: Bus, settings: Partial<OutboundSettings> = {}): Promise<OutboundWebhooks> {
  return OutboundWebhooks.open({
    bus,
    audit: new AuditLog(bus),
    logger: createLogger({ level: 'silent' }),
    registry: new Registry(),
    settings: {
      requireHttps: false,
      allowPrivateHosts: ['127.0.0.1'],
      connectTimeoutMs: 5_000,
      timeoutMs: 15_000,
      retryScheduleMs: undefined,
      maxInFlightPerSubscriber: 16,
      concurrency: 32,
      ...settings,
    },
  });
}
