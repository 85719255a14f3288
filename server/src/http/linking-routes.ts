import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { LINK_PROVIDERS, OAUTH_PROVIDERS, blueskyLinkInputSchema, type AccountLinker, type LinkProvider, type OAuthProviderId } from '../linking/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';
import { readJsonBody } from './middleware/read-body.js';

export interface LinkingRouteDeps {
  readonly linker: AccountLinker;
  readonly requireAdmin: Middleware<AppState>;
  /** Called after a channel's links changed (reconfigures the pipeline, re-runs subscriptions). */
  readonly onChannelChanged: (channel: string) => Promise<void>;
}

const authorizeInputSchema = z.strictObject({ return_to: z.string().max(2048).optional() });

function oauthProvider(value: string | undefined): OAuthProviderId {
  const provider = OAUTH_PROVIDERS.find((candidate) => candidate === value);
  if (!provider) throw new AppError('not_found', `no OAuth linking for ${String(value).slice(0, 40)}; use one of ${OAUTH_PROVIDERS.join(', ')}`);
  return provider;
}

function linkProvider(value: string | undefined): LinkProvider {
  const provider = LINK_PROVIDERS.find((candidate) => candidate === value);
  if (!provider) throw new AppError('not_found', `no provider ${String(value).slice(0, 40)}; use one of ${LINK_PROVIDERS.join(', ')}`);
  return provider;
}

/** One query parameter given at most once; a repeated one is a 400. */
function single(query: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new AppError('bad_request', `${name} may be given once`);
  return value;
}

/**
 * Provider account linking: OAuth for Twitch and YouTube (admin starts it, the publisher's
 * browser comes back to the callback), app password for Bluesky, status and unlink. Thin:
 * validation, then one call to the linker each.
 */
export function linkingRoutes(deps: LinkingRouteDeps): Router<AppState> {
  const router = new Router<AppState>();
  const { linker, requireAdmin } = deps;

  router.post('/api/v1/channels/:publisher/:slug/links/bluesky', requireAdmin, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const input = await readJsonBody(ctx, blueskyLinkInputSchema);
    const linked = await linker.linkBluesky(ref, input.identifier, input.app_password);
    await deps.onChannelChanged(linked.channel);
    ctx.status = 201;
    ctx.body = linked;
  });

  router.post('/api/v1/channels/:publisher/:slug/links/:provider/authorize', requireAdmin, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const provider = oauthProvider(ctx.params['provider']);
    const empty = ctx.get('content-length') === '0' || (ctx.get('content-length') === '' && ctx.get('transfer-encoding') === '');
    const input = empty ? {} : await readJsonBody(ctx, authorizeInputSchema, 4096);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await linker.startAuthorization(ref, provider, input.return_to);
  });

  router.get('/api/v1/channels/:publisher/:slug/links', requireAdmin, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { links: await linker.links(channelFromParams(ctx.params)) };
  });

  router.delete('/api/v1/channels/:publisher/:slug/links/:provider', requireAdmin, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    await linker.unlink(ref, linkProvider(ctx.params['provider']));
    await deps.onChannelChanged(`${ref.publisher}/${ref.slug}`);
    ctx.status = 204;
  });

  router.get('/oauth/:provider/callback', async (ctx) => {
    const provider = oauthProvider(ctx.params['provider']);
    const outcome = await linker.completeAuthorization(provider, {
      code: single(ctx.query, 'code'),
      state: single(ctx.query, 'state'),
      error: single(ctx.query, 'error'),
    });
    if ('linked' in outcome.result) await deps.onChannelChanged(outcome.channel);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (outcome.returnTo) {
      const target = new URL(outcome.returnTo);
      if ('linked' in outcome.result) target.searchParams.set('linked', provider);
      else target.searchParams.set('link_error', outcome.result.error);
      ctx.status = 303;
      ctx.redirect(target.toString());
      return;
    }
    if ('linked' in outcome.result) {
      ctx.body = { linked: outcome.result.linked };
      return;
    }
    const { error, message } = outcome.result;
    throw new AppError(error === 'conflict' ? 'conflict' : error === 'provider_unavailable' ? 'not_ready' : 'bad_request', `${error}: ${message}`);
  });

  return router;
}
