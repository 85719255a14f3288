import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { ChannelRef } from '@live-upload/schema';
import { AppError } from '../errors/index.js';
import { ACTIVITY_JSON, actorDocument, actorHandle, actorUrls, blockInputSchema, orderedCollection, parseActorHandle, webfingerDocument, type Federation } from '../federation/index.js';
import type { AppState } from './app-state.js';
import { parseJson, readJsonBody, readRawBody } from './middleware/read-body.js';

/** Largest inbox POST we read (Mastodon's activities are a few KB; it caps its own at 1 MB). */
export const MAX_INBOX_BODY_BYTES = 256 * 1024;

export interface FederationRouteDeps {
  readonly federation: Federation;
  readonly requireAdmin: Middleware<AppState>;
}

function sendActivityJson(ctx: Context, body: unknown): void {
  ctx.type = `${ACTIVITY_JSON}; charset=utf-8`;
  ctx.set('Cache-Control', 'public, max-age=60');
  ctx.body = body;
}

/**
 * ActivityPub for channels (issue 27): WebFinger, each channel's actor, outbox and followers
 * count, its signed inbox, and the admin's blocks. Thin: `Federation` verifies and applies.
 */
export function federationRoutes(deps: FederationRouteDeps): Router<AppState> {
  const router = new Router<AppState>();
  const { federation, requireAdmin } = deps;

  async function channelOf(ctx: Context): Promise<ChannelRef> {
    const ref = parseActorHandle(String(ctx.params['handle'] ?? ''));
    if (!ref || !(await federation.channelExists(ref))) throw new AppError('not_found', 'no such actor');
    return ref;
  }

  router.get('/.well-known/webfinger', async (ctx) => {
    const resource = ctx.query['resource'];
    if (typeof resource !== 'string') throw new AppError('bad_request', 'resource must be one acct: URI');
    const host = new URL(federation.publicUrl).host;
    const match = /^acct:([^@]+)@(.+)$/.exec(resource);
    let ref = match && match[2]!.toLowerCase() === host.toLowerCase() ? parseActorHandle(match[1]!) : undefined;
    // The actor's own URL is a resource too (Mastodon looks it up that way after a fetch).
    if (!match && resource.startsWith(`${federation.publicUrl}/ap/actors/`)) ref = parseActorHandle(resource.slice(`${federation.publicUrl}/ap/actors/`.length));
    if (!ref || !(await federation.channelExists(ref))) throw new AppError('not_found', `no actor ${resource} here`);
    ctx.type = 'application/jrd+json; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = webfingerDocument(federation.publicUrl, ref);
  });

  router.get('/ap/actors/:handle', async (ctx) => {
    const ref = await channelOf(ctx);
    const keys = await federation.keys.get(ref);
    sendActivityJson(ctx, actorDocument(federation.publicUrl, ref, keys.public_key_pem, undefined));
  });

  router.get('/ap/actors/:handle/outbox', async (ctx) => {
    const ref = await channelOf(ctx);
    const last = await federation.announcements.get(ref);
    const items = last && !last.ended && last.activity ? [last.activity] : [];
    sendActivityJson(ctx, orderedCollection(actorUrls(federation.publicUrl, ref).outbox, items));
  });

  // Only the count: who follows a channel is theirs, not the public's.
  router.get('/ap/actors/:handle/followers', async (ctx) => {
    const ref = await channelOf(ctx);
    const followers = await federation.followers.list(ref);
    sendActivityJson(ctx, orderedCollection(actorUrls(federation.publicUrl, ref).followers, [], followers.length));
  });

  router.post('/ap/actors/:handle/inbox', async (ctx) => {
    const ref = await channelOf(ctx);
    const body = await readRawBody(ctx, MAX_INBOX_BODY_BYTES);
    const outcome = await federation.receive(ref, { method: ctx.method, path: ctx.originalUrl, header: (name) => ctx.get(name) || undefined, body }, () => parseJson(body));
    if (outcome === 'blocked') throw new AppError('forbidden', `${actorHandle(ref)} does not take activities from this actor`);
    ctx.status = 202;
    ctx.body = { outcome };
  });

  router.get('/api/v1/federation/blocks', requireAdmin, async (ctx) => {
    ctx.body = { blocks: await federation.blocks.list() };
  });

  router.post('/api/v1/federation/blocks', requireAdmin, async (ctx) => {
    const input = await readJsonBody(ctx, blockInputSchema);
    ctx.status = 201;
    ctx.body = await federation.blocks.add(input);
  });

  router.delete('/api/v1/federation/blocks/:id', requireAdmin, async (ctx) => {
    if (!(await federation.blocks.remove(String(ctx.params['id'])))) throw new AppError('not_found', 'no such block');
    ctx.status = 204;
  });
  return router;
}
