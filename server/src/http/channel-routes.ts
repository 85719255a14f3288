import Router from '@koa/router';
import { formatChannelRef, summarizeLiveMetadata } from '@live-upload/schema';
import type { ChannelRegistry } from '../channels/index.js';
import { channelInputSchema } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import type { LiveStatusHub } from '../live/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';
import { readJsonBody } from './middleware/read-body.js';
import { rateLimitPerClient } from './middleware/rate-limit.js';
import { answeredNotModified } from './middleware/conditional-get.js';
import type { Middleware } from 'koa';

export interface ChannelRouteDeps {
  readonly channels: ChannelRegistry;
  readonly hub: LiveStatusHub;
  readonly requireAdmin: Middleware<AppState>;
  readonly statusRateLimitPerMinute: number;
  /** Called after a channel's config changed, so its canonical record reflects it. */
  readonly onChannelChanged: (channel: string) => Promise<void>;
}

/** Admin writes and public reads of channels. Thin: validation, then one call each. */
export function channelRoutes(deps: ChannelRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/channels' });

  router.put('/:publisher/:slug', deps.requireAdmin, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const input = await readJsonBody(ctx, channelInputSchema);
    const { config, created } = await deps.channels.upsert(ref, input);
    await deps.onChannelChanged(config.channel);
    ctx.status = created ? 201 : 200;
    ctx.body = config;
  });

  router.get('/:publisher/:slug', async (ctx) => {
    const channel = formatChannelRef(channelFromParams(ctx.params));
    const current = await deps.hub.current(channel);
    if (!current) throw new AppError('not_found', `no channel ${channel}`);
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'application/json';
    ctx.body = current.serialized;
  });

  router.get(
    '/:publisher/:slug/status',
    rateLimitPerClient(deps.statusRateLimitPerMinute, 'status'),
    async (ctx) => {
      const channel = formatChannelRef(channelFromParams(ctx.params));
      const current = await deps.hub.current(channel);
      if (!current) throw new AppError('not_found', `no channel ${channel}`);
      const summary = summarizeLiveMetadata(current.record);
      ctx.set('Cache-Control', 'public, max-age=2, stale-while-revalidate=10');
      const etag = `W/"${summary.seq}-${Date.parse(current.record.updated_at).toString(36)}"`;
      if (answeredNotModified(ctx, etag)) return;
      ctx.body = summary;
    },
  );

  return router;
}
