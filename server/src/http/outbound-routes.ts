import Router from '@koa/router';
import type { Middleware } from 'koa';
import { AppError } from '../errors/index.js';
import { secretRotationSchema, subscriberCreateSchema, subscriberUpdateSchema, type OutboundAdmin } from '../outbound/index.js';
import type { AppState } from './app-state.js';
import { readJsonBody } from './middleware/read-body.js';

export interface OutboundRouteDeps {
  readonly admin: OutboundAdmin;
  readonly requireAdmin: Middleware<AppState>;
}

/** Who the audit trail names for admin-token requests. */
const ADMIN_ACTOR = 'admin';

const DEFAULT_LIST_LIMIT = 50;

/** `?limit=` as 1-200; a 400 for anything else. */
function listLimit(value: string | string[] | undefined): number {
  if (value === undefined) return DEFAULT_LIST_LIMIT;
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,2}$/.test(value) || Number(value) > 200) {
    throw new AppError('bad_request', 'limit must be an integer from 1 to 200');
  }
  return Number(value);
}

function param(params: Record<string, string | undefined>, name: string): string {
  return params[name] ?? '';
}

/**
 * The admin API of outbound webhooks (Bearer ADMIN_TOKEN): subscribers, their secrets,
 * deliveries, dead letters and replays. Thin: validation, then one call each.
 */
export function outboundRoutes(deps: OutboundRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/webhooks' });
  const { admin, requireAdmin } = deps;
  router.post('/subscribers', requireAdmin, async (ctx) => {
    const input = await readJsonBody(ctx, subscriberCreateSchema);
    ctx.status = 201;
    ctx.body = await admin.create(input, ADMIN_ACTOR);
  });

  router.get('/subscribers', requireAdmin, (ctx) => {
    ctx.body = { subscribers: admin.list() };
  });

  router.get('/subscribers/:id', requireAdmin, async (ctx) => {
    ctx.body = await admin.get(param(ctx.params, 'id'));
  });

  router.patch('/subscribers/:id', requireAdmin, async (ctx) => {
    const update = await readJsonBody(ctx, subscriberUpdateSchema);
    ctx.body = await admin.update(param(ctx.params, 'id'), update, ADMIN_ACTOR);
  });

  router.delete('/subscribers/:id', requireAdmin, async (ctx) => {
    await admin.delete(param(ctx.params, 'id'), ADMIN_ACTOR);
    ctx.status = 204;
  });

  router.post('/subscribers/:id/rotate-secret', requireAdmin, async (ctx) => {
    const empty = ctx.get('content-length') === '0' || (ctx.get('content-length') === '' && ctx.get('transfer-encoding') === '');
    const request = empty ? {} : await readJsonBody(ctx, secretRotationSchema);
    ctx.body = await admin.rotateSecret(param(ctx.params, 'id'), request, ADMIN_ACTOR);
  });

  router.get('/subscribers/:id/deliveries', requireAdmin, async (ctx) => {
    ctx.body = { deliveries: await admin.deliveries(param(ctx.params, 'id'), listLimit(ctx.query['limit'])) };
  });

  router.get('/subscribers/:id/deliveries/:deliveryId', requireAdmin, async (ctx) => {
    ctx.body = await admin.delivery(param(ctx.params, 'id'), param(ctx.params, 'deliveryId'));
  });

  router.post('/subscribers/:id/deliveries/:deliveryId/replay', requireAdmin, async (ctx) => {
    ctx.status = 202;
    ctx.body = await admin.replay(param(ctx.params, 'id'), param(ctx.params, 'deliveryId'), ADMIN_ACTOR);
  });

  router.get('/dead-letters', requireAdmin, async (ctx) => {
    const subscriber = ctx.query['subscriber'];
    if (Array.isArray(subscriber)) throw new AppError('bad_request', 'subscriber may be given once');
    ctx.body = { dead_letters: await admin.deadLetters(subscriber, listLimit(ctx.query['limit'])) };
  });

  router.delete('/subscribers/:id/dead-letters/:deliveryId', requireAdmin, async (ctx) => {
    await admin.deleteDeadLetter(param(ctx.params, 'id'), param(ctx.params, 'deliveryId'), ADMIN_ACTOR);
    ctx.status = 204;
  });

  return router;
}
