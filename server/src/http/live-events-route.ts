import Router from '@koa/router';
import type { AppState } from './app-state.js';
import { LIVE_EVENTS_PATH } from './live-events-ingress.js';
import type { NodeRequestHandler } from './twitch-webhook-ingress.js';

/**
 * `/api/v1/live/events` in Koa's route table. Its streams are served ahead of Koa by the
 * live-events ingress (`live-events-ingress.ts`, mounted first in `app.ts`), so what reaches
 * this route is what the ingress does not take: a spelling of the path the router matches and
 * the ingress does not (another letter case), which is handed to the ingress all the same, and
 * every other method, which the router answers 405 with `Allow: HEAD, GET` because the route
 * is here (an `OPTIONS` preflight is answered by the CORS middleware before that).
 */
export function liveEventsRoute(ingress: NodeRequestHandler): Router<AppState> {
  const router = new Router<AppState>();
  router.get(LIVE_EVENTS_PATH, (ctx) => {
    // The ingress writes its own access-log line and answer.
    ctx.state.quiet = true;
    ctx.respond = false;
    ingress(ctx.req, ctx.res);
  });
  return router;
}
