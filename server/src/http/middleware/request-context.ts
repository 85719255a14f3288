import type { Middleware } from 'koa';
import type { Logger, Metrics } from '../../observability/index.js';
import type { AppState } from '../app-state.js';
import { requestIdFor } from '../request-id.js';

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a ULID), a
 * child logger carrying it, and one access-log line with the matched route, never the query.
 * Every answer carries `X-Content-Type-Options: nosniff`: a browser takes JSON (and every other
 * body of ours) for the type we declare, never sniffs it into HTML or script.
 */
export function requestContext(logger: Logger, metrics: Metrics): Middleware<AppState> {
  return async (ctx, next) => {
    const requestId = requestIdFor(ctx.get('x-request-id'));
    ctx.state.requestId = requestId;
    // The child logger is built on first use: most requests log only the access line below,
    // and a pino child per request was a measurable share of a webhook's cost.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => (log ??= logger.child({ request_id: requestId })),
      set: (value: Logger) => {
        log = value;
      },
      configurable: true,
      enumerable: true,
    });
    ctx.set('X-Request-Id', requestId);
    ctx.set('X-Content-Type-Options', 'nosniff');
    const startedAt = performance.now();
    try {
      await next();
    } finally {
      const route = typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
      metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      if (!ctx.state.quiet && logger.isLevelEnabled('info')) {
        const line = { method: ctx.method, route, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - startedAt) };
        if (log) log.info(line, 'request');
        else logger.info({ request_id: requestId, ...line }, 'request');
      }
    }
  };
}
