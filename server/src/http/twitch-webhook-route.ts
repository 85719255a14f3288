import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import type { Metrics, WebhookOutcome } from '../observability/index.js';
import type { RawEventIngest } from '../pipeline/index.js';
import { TWITCH_SUBSCRIPTION_TYPES, readEventSubDelivery, type EventSubSubscription } from '../providers/twitch/index.js';
import type { AppState } from './app-state.js';
import { readRawBody } from './middleware/read-body.js';

export const TWITCH_WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;

export interface TwitchWebhookDeps {
  readonly secret: string;
  readonly ingest: RawEventIngest;
  readonly metrics: Metrics;
  readonly now: () => number;
  readonly onRevocation: (subscription: EventSubSubscription, messageId: string) => Promise<unknown>;
}

const MAPPED_TYPES = new Set<string>(Object.values(TWITCH_SUBSCRIPTION_TYPES).map((entry) => entry.type));

const OUTCOME_FOR_ERROR: Partial<Record<AppError['code'], WebhookOutcome>> = {
  signature_invalid: 'signature_invalid',
  timestamp_stale: 'timestamp_stale',
  payload_too_large: 'too_large',
  bus_unavailable: 'bus_unavailable',
};

/** `POST /webhooks/twitch`: the EventSub webhook callback, exactly as Twitch documents it. */
export function twitchWebhookRoute(deps: TwitchWebhookDeps): Router<AppState> {
  const router = new Router<AppState>();
  const count = (outcome: WebhookOutcome) => deps.metrics.webhookResults.inc({ provider: 'twitch', outcome });

  router.post('/webhooks/twitch', async (ctx) => {
    try {
      const rawBody = await readRawBody(ctx, TWITCH_WEBHOOK_MAX_BODY_BYTES);
      const delivery = readEventSubDelivery({ header: (name) => ctx.get(name) || undefined, rawBody, secret: deps.secret, nowMs: deps.now() });
      switch (delivery.kind) {
        case 'verification':
          count('verification');
          ctx.status = 200;
          ctx.type = 'text/plain; charset=utf-8';
          ctx.body = delivery.challenge;
          return;
        case 'revocation':
          await deps.onRevocation(delivery.subscription, delivery.messageId);
          count('revocation');
          ctx.status = 204;
          return;
        case 'notification': {
          const { duplicate } = await deps.ingest.publish(delivery.event);
          count(duplicate ? 'duplicate' : MAPPED_TYPES.has(delivery.subscription.type) ? 'accepted' : 'ignored');
          ctx.status = 204;
          return;
        }
      }
    } catch (error) {
      count((error instanceof AppError && OUTCOME_FOR_ERROR[error.code]) || 'invalid');
      throw error;
    }
  });

  return router;
}
