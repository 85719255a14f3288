import Router from '@koa/router';
import { SCHEMA_VERSION, liveMetadataJsonSchema } from '@live-upload/schema';
import type { Bus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import type { Metrics } from '../observability/index.js';
import type { AppState } from './app-state.js';

/** Liveness, readiness, Prometheus metrics and the published JSON Schema. */
export function operationsRoutes(deps: { bus: Bus; metrics: Metrics; isDraining: () => boolean }): Router<AppState> {
  const router = new Router<AppState>();
  const schemaJson = JSON.stringify(liveMetadataJsonSchema(), null, 2);

  router.get('/healthz', (ctx) => {
    ctx.state.quiet = true;
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', (ctx) => {
    ctx.state.quiet = true;
    if (deps.isDraining()) throw new AppError('not_ready', 'shutting down');
    if (!deps.bus.isReady()) throw new AppError('not_ready', `${deps.bus.kind} bus is not connected`);
    ctx.body = { status: 'ready', bus: deps.bus.kind };
  });

  router.get('/metrics', async (ctx) => {
    ctx.state.quiet = true;
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  router.get(`/schema/${SCHEMA_VERSION}.json`, (ctx) => {
    ctx.type = 'application/schema+json';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = schemaJson;
  });

  return router;
}
