import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../errors/index.js';
import type { CounterChild, Logger, Metrics, WebhookOutcome } from '../observability/index.js';
import type { RawEventIngest } from '../pipeline/index.js';
import { TWITCH_SUBSCRIPTION_TYPES, readEventSubDelivery, type EventSubSubscription } from '../providers/twitch/index.js';
import { asAppError, errorBody } from './middleware/error-handler.js';
import { TurnEnder } from './turn-ender.js';
import { readRequestBody } from './read-request-body.js';
import { ingressAccess } from './ingress-access.js';

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
  const access = ingressAccess(TWITCH_WEBHOOK_PATH, metrics, logger);
  /** When the access log is on: each request's id and start, for its line once answered. */
  const started = new WeakMap<ServerResponse, { readonly requestId: string; readonly startedAt: number }>();
  /**
   * Answers go out once per event-loop turn, together (`TurnEnder`); each is counted (and
   * logged) as it is written, instead of from a 'finish' listener added to every response.
   */
  const answers = new TurnEnder((response) => {
    const method = response.req.method ?? 'GET';
    access.count(method, response.statusCode);
    const start = started.get(response);
    if (start) access.log(start.requestId, method, TWITCH_WEBHOOK_PATH, response.statusCode, start.startedAt);
  });
  /**
   * The whole head in one `writeHead` with a flat list: node takes it as it is, where headers
   * set one by one are each validated, lowercased and kept in a table first, then written out.
   */
  const send = (response: ServerResponse, requestId: string, status: number, headers?: Record<string, string>, body?: string): void => {
    const head = ['X-Request-Id', requestId, 'X-Content-Type-Options', 'nosniff'];
    if (headers) for (const name in headers) head.push(name, headers[name]!);
    if (body !== undefined) head.push('Content-Length', String(Buffer.byteLength(body)));
    response.writeHead(status, head);
    answers.end(response, body);
  };
  const sendError = (response: ServerResponse, requestId: string, error: AppError, extraHeaders: Record<string, string> = {}): void => {
    send(response, requestId, error.status, { ...error.headers, ...extraHeaders, 'Content-Type': 'application/json; charset=utf-8' }, JSON.stringify(errorBody(error)));
  };
  const outcomeCounters = new Map<WebhookOutcome, CounterChild>();
  const count = (outcome: WebhookOutcome): void => {
    let counter = outcomeCounters.get(outcome);
    if (!counter) outcomeCounters.set(outcome, (counter = metrics.summed.webhookResults.child({ provider: 'twitch', outcome })));
    counter.inc();
  };
  /** `received_at` of the webhooks of one millisecond: a burst shares one ISO string. */
  let receivedMs = Number.NaN;
  let receivedAt = '';
  const receivedAtOf = (nowMs: number): string => {
    if (nowMs !== receivedMs) {
      receivedMs = nowMs;
      receivedAt = new Date(nowMs).toISOString();
    }
    return receivedAt;
  };

  async function answer(request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
    const rawBody = await readRequestBody(request, TWITCH_WEBHOOK_MAX_BODY_BYTES);
    const nowMs = deps.now();
    const delivery = readEventSubDelivery({ header: headerReader(request), rawBody, secret: deps.secret, nowMs, receivedAt: receivedAtOf(nowMs) });
    switch (delivery.kind) {
      case 'verification':
        count('verification');
        send(response, requestId, 200, { 'Content-Type': 'text/plain; charset=utf-8' }, delivery.challenge);
        return;
      case 'revocation':
        await deps.onRevocation(delivery.subscription, delivery.messageId);
        count('revocation');
        send(response, requestId, 204);
        return;
      case 'notification': {
        const { duplicate } = await deps.ingest.publish(delivery.event);
        count(duplicate ? 'duplicate' : MAPPED_TYPES.has(delivery.subscription.type) ? 'accepted' : 'ignored');
        send(response, requestId, 204);
        return;
      }
    }
  }

  return (request, response) => {
    const requestId = access.requestId(request);
    if (access.logging()) started.set(response, { requestId, startedAt: performance.now() });
    if (request.method !== 'POST') {
      request.resume();
      if (request.method === 'OPTIONS') send(response, requestId, 204, { Allow: 'POST' });
      else sendError(response, requestId, new AppError('method_not_allowed', `${request.method} is not allowed on ${TWITCH_WEBHOOK_PATH}; Twitch POSTs`), { Allow: 'POST' });
      return;
    }
    answer(request, response, requestId).catch((error: unknown) => {
      const { appError, unexpected } = asAppError(error);
      count(OUTCOME_FOR_ERROR[appError.code] ?? 'invalid');
      if (unexpected) logger.error({ err: error, request_id: requestId }, 'unhandled error');
      else if (appError.status >= 500) logger.warn({ code: appError.code, err: appError.cause, request_id: requestId }, appError.message);
      if (response.headersSent || response.destroyed) return;
      // A body refused before it was read to the end carries `Connection: close` (readRequestBody).
      sendError(response, requestId, appError);
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
