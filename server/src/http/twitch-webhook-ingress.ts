import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../errors/index.js';
import type { CounterChild, Logger, Metrics, WebhookOutcome } from '../observability/index.js';
import type { RawEventIngest } from '../pipeline/index.js';
import { TWITCH_SUBSCRIPTION_TYPES, readEventSubDelivery, type EventSubSubscription } from '../providers/twitch/index.js';
import { asAppError, errorBody } from './middleware/error-handler.js';
import { TurnEnder } from './turn-ender.js';
import { readRequestBody } from './read-request-body.js';
import { requestIdFor } from './request-id.js';

export const TWITCH_WEBHOOK_PATH = '/webhooks/twitch';
export const TWITCH_WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;

export interface TwitchWebhookDeps {
  readonly secret: string;
  readonly ingest: RawEventIngest;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly onRevocation: (subscription: EventSubSubscription, messageId: string) => Promise<unknown>;
}

/** Node's request handler for the webhook path. */
export type NodeRequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

const MAPPED_TYPES = new Set<string>(Object.values(TWITCH_SUBSCRIPTION_TYPES).map((entry) => entry.type));

const OUTCOME_FOR_ERROR: Partial<Record<AppError['code'], WebhookOutcome>> = {
  signature_invalid: 'signature_invalid',
  timestamp_stale: 'timestamp_stale',
  payload_too_large: 'too_large',
  bus_unavailable: 'bus_unavailable',
};

/** `/webhooks/twitch` and `/webhooks/twitch/`, any query string. */
export function isTwitchWebhookPath(url: string | undefined): boolean {
  if (url === undefined || !url.startsWith(TWITCH_WEBHOOK_PATH)) return false;
  const rest = url.slice(TWITCH_WEBHOOK_PATH.length);
  return rest === '' || rest === '/' || rest.startsWith('?') || rest.startsWith('/?');
}

/**
 * `POST /webhooks/twitch`, the EventSub webhook callback exactly as Twitch documents it,
 * answered on node's request itself by the first Koa middleware, ahead of the rest of the chain
 * (`app.ts`). It is the one route a provider calls in bursts, and our middleware chain and the
 * router's match over every route were most of what a webhook cost beyond its HMAC (`bench/ingest`). What the middleware
 * gives every other route it keeps: the request id (`X-Request-Id`), the access-log line, the
 * request metrics and errors as `{ "error": { "code", "message" } }`.
 */
export function twitchWebhookIngress(deps: TwitchWebhookDeps): NodeRequestHandler {
  const { metrics, logger } = deps;
  /** Answers go out once per event-loop turn, together: see `TurnEnder`. */
  const answers = new TurnEnder();
  const send = (response: ServerResponse, status: number, headers?: Record<string, string>, body?: string): void => {
    response.statusCode = status;
    if (headers) for (const name in headers) response.setHeader(name, headers[name]!);
    if (body !== undefined) response.setHeader('Content-Length', Buffer.byteLength(body));
    answers.end(response, body);
  };
  const sendError = (response: ServerResponse, error: AppError, extraHeaders: Record<string, string> = {}): void => {
    send(response, error.status, { ...error.headers, ...extraHeaders, 'Content-Type': 'application/json; charset=utf-8' }, JSON.stringify(errorBody(error)));
  };
  const outcomeCounters = new Map<WebhookOutcome, CounterChild>();
  const count = (outcome: WebhookOutcome): void => {
    let counter = outcomeCounters.get(outcome);
    if (!counter) outcomeCounters.set(outcome, (counter = metrics.summed.webhookResults.child({ provider: 'twitch', outcome })));
    counter.inc();
  };
  const requestCounters = new Map<string, CounterChild>();
  const countRequest = (method: string, status: number): void => {
    const key = `${method} ${status}`;
    let counter = requestCounters.get(key);
    if (!counter) requestCounters.set(key, (counter = metrics.summed.httpRequests.child({ method, route: TWITCH_WEBHOOK_PATH, status: String(status) })));
    counter.inc();
  };

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawBody = await readRequestBody(request, TWITCH_WEBHOOK_MAX_BODY_BYTES);
    const delivery = readEventSubDelivery({ header: headerReader(request), rawBody, secret: deps.secret, nowMs: deps.now() });
    switch (delivery.kind) {
      case 'verification':
        count('verification');
        send(response, 200, { 'Content-Type': 'text/plain; charset=utf-8' }, delivery.challenge);
        return;
      case 'revocation':
        await deps.onRevocation(delivery.subscription, delivery.messageId);
        count('revocation');
        send(response, 204);
        return;
      case 'notification': {
        const { duplicate } = await deps.ingest.publish(delivery.event);
        count(duplicate ? 'duplicate' : MAPPED_TYPES.has(delivery.subscription.type) ? 'accepted' : 'ignored');
        send(response, 204);
        return;
      }
    }
  }

  return (request, response) => {
    const startedAt = performance.now();
    const requestId = requestIdFor(request.headers['x-request-id']);
    response.setHeader('X-Request-Id', requestId);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    // `on`, not `once`: 'finish' comes once per response, and `once` wraps the listener per request.
    response.on('finish', () => {
      countRequest(request.method ?? 'GET', response.statusCode);
      if (logger.isLevelEnabled('info')) {
        logger.info(
          { request_id: requestId, method: request.method, route: TWITCH_WEBHOOK_PATH, path: TWITCH_WEBHOOK_PATH, status: response.statusCode, ms: Math.round(performance.now() - startedAt) },
          'request',
        );
      }
    });
    if (request.method !== 'POST') {
      request.resume();
      if (request.method === 'OPTIONS') send(response, 204, { Allow: 'POST' });
      else sendError(response, new AppError('method_not_allowed', `${request.method} is not allowed on ${TWITCH_WEBHOOK_PATH}; Twitch POSTs`), { Allow: 'POST' });
      return;
    }
    answer(request, response).catch((error: unknown) => {
      const { appError, unexpected } = asAppError(error);
      count(OUTCOME_FOR_ERROR[appError.code] ?? 'invalid');
      if (unexpected) logger.error({ err: error, request_id: requestId }, 'unhandled error');
      else if (appError.status >= 500) logger.warn({ code: appError.code, err: appError.cause, request_id: requestId }, appError.message);
      if (response.headersSent || response.destroyed) return;
      // A body refused before it was read to the end carries `Connection: close` (readRequestBody).
      sendError(response, appError);
    });
  };
}

/** A request's headers by name, any case; an empty one is missing. */
function headerReader(request: IncomingMessage): (name: string) => string | undefined {
  return (name) => {
    const value = request.headers[name.toLowerCase()];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
}
