import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { ChannelRef } from '@live-upload/schema';
import { AppError } from '../errors/index.js';
import {
  ACTIVITY_JSON,
  DEAD_LETTER_CURSOR_PATTERN,
  FOLLOWER_ID_PATTERN,
  actorDocument,
  actorUrls,
  blockInputSchema,
  orderedCollection,
  parseActorHandle,
  webfingerDocument,
  type Federation,
} from '../federation/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';
import { parseJson, readJsonBody, readRawBody } from './middleware/read-body.js';

/** Who the audit trail names for admin-token requests. */
const ADMIN_ACTOR = 'admin';

const followersQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().regex(FOLLOWER_ID_PATTERN, 'must be a follower id (the next_after of the page before)').optional(),
});

const deadLettersQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().regex(DEAD_LETTER_CURSOR_PATTERN, 'must be the next_after of the page before').optional(),
});

/** A query checked against `schema`; a 400 `bad_request` naming the first bad parameter. */
function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') throw new AppError('bad_request', `unknown parameter ${issue.keys.join(', ')}`);
  const field = issue?.path[0] === undefined ? 'query' : String(issue.path[0]);
  throw new AppError('bad_request', `${field}: ${issue?.message ?? 'invalid'}`);
}

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
 * count, its signed inbox; and the admin's side (Bearer ADMIN_TOKEN, every change audited):
 * blocks, a channel's followers, and the deliveries that gave up (dead letters), listed in pages
 * (`limit`, `after` = the `next_after` of the page before), retried or discarded one by one.
 * Thin: `Federation` verifies and applies.
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
    try {
      const body = await readRawBody(ctx, MAX_INBOX_BODY_BYTES);
      const outcome = await federation.receive(ref, { method: ctx.method, path: ctx.originalUrl, header: (name) => ctx.get(name) || undefined, body }, () => parseJson(body));
      ctx.status = 202;
      ctx.body = { outcome };
    } catch (error) {
      federation.countInboxRefusal(error);
      throw error;
    }
  });

  router.get('/api/v1/federation/blocks', requireAdmin, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { blocks: await federation.blocks.list() };
  });

  router.post('/api/v1/federation/blocks', requireAdmin, async (ctx) => {
    const input = await readJsonBody(ctx, blockInputSchema);
    ctx.status = 201;
    ctx.body = await federation.admin.block(input, ADMIN_ACTOR);
  });

  router.delete('/api/v1/federation/blocks/:id', requireAdmin, async (ctx) => {
    await federation.admin.unblock(String(ctx.params['id']), ADMIN_ACTOR);
    ctx.status = 204;
  });

  async function adminChannelOf(ctx: Context): Promise<ChannelRef> {
    const ref = channelFromParams(ctx.params as Record<string, string | undefined>);
    if (!(await federation.channelExists(ref))) throw new AppError('not_found', `no channel ${ref.publisher}/${ref.slug}`);
    return ref;
  }

  router.get('/api/v1/federation/channels/:publisher/:slug/followers', requireAdmin, async (ctx) => {
    const query = parseQuery(followersQuerySchema, ctx.query);
    const ref = await adminChannelOf(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await federation.admin.followers(ref, { limit: query.limit, ...(query.after ? { after: query.after } : {}) });
  });

  router.delete('/api/v1/federation/channels/:publisher/:slug/followers/:id', requireAdmin, async (ctx) => {
    const ref = await adminChannelOf(ctx);
    await federation.admin.removeFollower(ref, String(ctx.params['id']), ADMIN_ACTOR);
    ctx.status = 204;
  });

  router.get('/api/v1/federation/dead-letters', requireAdmin, async (ctx) => {
    const query = parseQuery(deadLettersQuerySchema, ctx.query);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await federation.admin.deadLetters({ limit: query.limit, ...(query.after ? { after: query.after } : {}) });
  });

  router.get('/api/v1/federation/dead-letters/:id', requireAdmin, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await federation.admin.deadLetter(String(ctx.params['id']));
  });

  router.post('/api/v1/federation/dead-letters/:id/retry', requireAdmin, async (ctx) => {
    ctx.status = 202;
    ctx.body = await federation.admin.retryDeadLetter(String(ctx.params['id']), ADMIN_ACTOR);
  });

  router.delete('/api/v1/federation/dead-letters/:id', requireAdmin, async (ctx) => {
    await federation.admin.discardDeadLetter(String(ctx.params['id']), ADMIN_ACTOR);
    ctx.status = 204;
  });
  return router;
}
