import Router from '@koa/router';
import { SCHEMA_VERSION, liveMetadataJsonSchema } from '@live-upload/schema';
import type { Bus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import type { Metrics } from '../observability/index.js';
import type { AppState } from './app-state.js';
import { requireBearer } from './middleware/require-bearer.js';

export interface OperationsDeps {
  readonly bus: Bus;
  readonly metrics: Metrics;
  readonly isDraining: () => boolean;
  /** How this port serves `/metrics`: to anyone, with `METRICS_TOKEN` as bearer, or not at all (404: served on `METRICS_PORT`, or production without a token). */
  readonly metricsAccess: { readonly mode: 'open' | 'off' } | { readonly mode: 'token'; readonly token: string };
}

/**
 * Liveness, readiness, Prometheus metrics and the published JSON Schema. `/readyz` answers
 * whether this process takes traffic, and says whether its state survives a restart:
 * `durable: false` on the in-memory bus (ready, but a restart loses channels, upload records
 * and the audit trail), `true` on NATS JetStream.
 */
export function operationsRoutes(deps: OperationsDeps): Router<AppState> {
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
    ctx.body =
      deps.bus.kind === 'nats'
        ? { status: 'ready', bus: deps.bus.kind, durable: true }
        : { status: 'ready', bus: deps.bus.kind, durable: false, warning: 'in-memory bus: channels, upload records and the audit trail are lost at restart' };
  });

  const access = deps.metricsAccess;
  if (access.mode !== 'off') {
    const guards = access.mode === 'token' ? [requireBearer(() => [access.token], 'metrics')] : [];
    router.get('/metrics', ...guards, async (ctx) => {
      ctx.state.quiet = true;
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
    });
  }

  router.get(`/schema/${SCHEMA_VERSION}.json`, (ctx) => {
    ctx.type = 'application/schema+json';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = schemaJson;
  });

  return router;
}
