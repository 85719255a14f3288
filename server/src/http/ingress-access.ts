import type { IncomingMessage } from 'node:http';
import type { CounterChild, Logger, Metrics } from '../observability/index.js';
import { requestIdFor } from './request-id.js';

/**
 * What `requestContext` gives each Koa route, for a route answered on node's request ahead of
 * Koa (`app.ts`: the Twitch webhook, the live-events stream): the request's id, the request
 * metric and the access-log line, the same as Koa's routes have them.
 */
export interface IngressAccess {
  /** The caller's `X-Request-Id` when it is sane, else a fresh ULID. */
  requestId(request: IncomingMessage): string;
  /** Whether answers get an access-log line (the logger is at info): only then is a request's start worth keeping. */
  logging(): boolean;
  /** Counts one answer in `http_requests_total{method,route,status}`. */
  count(method: string, status: number): void;
  /** The answer's access-log line, when `logging()`; `startedAt` is the request's `performance.now()`. */
  log(requestId: string, method: string, path: string, status: number, startedAt: number): void;
}

export function ingressAccess(route: string, metrics: Metrics, logger: Logger): IngressAccess {
  /** One counter child per method and status: no label set is hashed per request. */
  const counters = new Map<string, CounterChild>();
  const logging = (): boolean => logger.isLevelEnabled('info');
  return {
    requestId: (request) => requestIdFor(request.headers['x-request-id']),
    logging,
    count: (method, status) => {
      const key = `${method} ${status}`;
      let counter = counters.get(key);
      if (!counter) counters.set(key, (counter = metrics.summed.httpRequests.child({ method, route, status: String(status) })));
      counter.inc();
    },
    log: (requestId, method, path, status, startedAt) => {
      if (logging()) logger.info({ request_id: requestId, method, route, path, status, ms: Math.round(performance.now() - startedAt) }, 'request');
    },
  };
}
