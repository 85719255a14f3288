import Router from '@koa/router';
import { formatChannelRef } from '@live-upload/schema';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import type { ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import { PUBLISHER_CAPABILITIES, PUBLISHER_GRANT_DEFAULT_TTL_MS, PUBLISHER_GRANT_MAX_TTL_MS, type PublisherGrants } from '../publishers/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';
import { readJsonBody } from './middleware/read-body.js';

/** `POST .../publisher-grants`: what the grant allows and how long it lives. An empty body asks for the defaults. */
export const publisherGrantRequestSchema = z.strictObject({
  /** Default: every capability there is. */
  capabilities: z.array(z.enum(PUBLISHER_CAPABILITIES)).min(1).max(PUBLISHER_CAPABILITIES.length).optional(),
  /** Seconds; default 15 min, at most 1 h. */
  ttl_s: z
    .number()
    .int()
    .min(60)
    .max(PUBLISHER_GRANT_MAX_TTL_MS / 1000)
    .optional(),
});

export interface PublisherGrantRouteDeps {
  readonly channels: ChannelRegistry;
  readonly grants: PublisherGrants;
  readonly requireAdmin: Middleware<AppState>;
  /** Every grant is audited as `publisher.granted` (by `admin`, the grant id, its capabilities and expiry; never the token). */
  readonly audit: AuditLog;
}

/**
 * `POST /api/v1/channels/:publisher/:slug/publisher-grants` (admin token): a short-lived
 * publisher grant for the channel (201 `{ token, grant_id, channel, capabilities, expires_at }`,
 * `Cache-Control: no-store`). The product has no publisher accounts: the host page's backend,
 * which knows who its publisher is, calls this and hands the token to its page, which presents
 * it as `Authorization: Bearer <token>` where a publisher may act (a `broadcast` upload today).
 * 404 for an unknown channel.
 */
export function publisherGrantRoutes(deps: PublisherGrantRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/channels' });

  router.post('/:publisher/:slug/publisher-grants', deps.requireAdmin, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const hasBody = Boolean(ctx.request.length) || ctx.get('transfer-encoding') !== '';
    const input = hasBody ? await readJsonBody(ctx, publisherGrantRequestSchema) : {};
    const config = await deps.channels.get(ref);
    if (!config) throw new AppError('not_found', `no channel ${formatChannelRef(ref)}`);
    const grant = await deps.grants.sign(
      { channel: config.channel, capabilities: input.capabilities ?? [...PUBLISHER_CAPABILITIES] },
      input.ttl_s === undefined ? PUBLISHER_GRANT_DEFAULT_TTL_MS : input.ttl_s * 1000,
    );
    const expiresAt = new Date(grant.expiresAtMs).toISOString();
    await deps.audit.record({
      actor: 'admin',
      action: AUDIT_ACTIONS.publisherGranted,
      target: config.channel,
      details: { grant_id: grant.grantId, capabilities: grant.capabilities, expires_at: expiresAt },
      msgId: `audit:${AUDIT_ACTIONS.publisherGranted}:${grant.grantId}`,
    });
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token: grant.token, grant_id: grant.grantId, channel: grant.channel, capabilities: grant.capabilities, expires_at: expiresAt };
  });

  return router;
}
