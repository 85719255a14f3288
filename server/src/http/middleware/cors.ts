import cors from '@koa/cors';
import type { Middleware } from 'koa';
import type { AppState } from '../app-state.js';

/** Paths any origin may read (and preflight): the element bundles, the public read API (replay listings included), the live events, the schema, oEmbed. */
const PUBLIC_READ_PATHS = [/^\/element\/[a-z0-9.-]+$/, /^\/api\/v1\/channels\/[^/]+\/[^/]+(\/status|\/vods(\/[^/]+)?)?$/, /^\/api\/v1\/live\/events$/, /^\/schema\/[^/]+\.json$/, /^\/oembed$/, /^\/api\/v1\/streams$/];

/**
 * Public reads are open to every origin (no credentials); the validators and the SSE cursor
 * may be sent. Writes get no CORS headers: the admin API is for servers, not pages.
 */
export function publicReadCors(): Middleware<AppState> {
  const allow = cors({
    origin: '*',
    allowMethods: ['GET', 'HEAD', 'OPTIONS'],
    allowHeaders: ['Last-Event-ID', 'If-None-Match', 'Cache-Control'],
    exposeHeaders: ['ETag', 'Retry-After', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining'],
    maxAge: 600,
  });
  return async (ctx, next) => {
    const read = ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS';
    if (read && PUBLIC_READ_PATHS.some((pattern) => pattern.test(ctx.path))) return allow(ctx, next);
    return next();
  };
}
