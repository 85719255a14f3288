import cors from '@koa/cors';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import {
  TUS_PATH,
  UPLOAD_ID_PATTERN,
  isTusPath,
  issueUploadGrant,
  uploadRequestSchema,
  type TusEndpoint,
  type UploadGrants,
  type UploadLimits,
  type UploadStore,
} from '../uploads/index.js';
import type { AppState } from './app-state.js';
import { readJsonBody } from './middleware/read-body.js';
import { rateLimitPerClient } from './middleware/rate-limit.js';
import { tokenMatches } from './middleware/require-bearer.js';

export interface UploadRouteDeps {
  readonly channels: ChannelRegistry;
  readonly uploads: UploadStore;
  readonly grants: UploadGrants;
  readonly limits: UploadLimits;
  /** Token requests per client a minute. */
  readonly rateLimitPerMinute: number;
  /** Reads per client a minute of an upload's status. */
  readonly statusRateLimitPerMinute: number;
  /** Where tus lives, as the outside world reaches it. */
  readonly publicUrl: () => string;
  /** Moderators see check details. */
  readonly moderatorTokens: () => readonly string[];
  readonly now: () => number;
}

/** Pages on any origin ask for grants and read status; no credentials are involved. */
const anyOrigin = cors({ origin: '*', allowMethods: ['GET', 'POST', 'OPTIONS'], allowHeaders: ['Content-Type'], exposeHeaders: ['Retry-After'], maxAge: 600 });

/** `POST /api/v1/uploads/token` and `GET /api/v1/uploads/:upload_id`. Thin: validation, then one call each. */
export function uploadRoutes(deps: UploadRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/uploads' });
  const isModerator = (authorization: string): boolean => {
    const presented = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization)?.[1];
    return presented !== undefined && deps.moderatorTokens().some((token) => tokenMatches(presented, token));
  };

  router.options('/token', anyOrigin);
  router.post('/token', anyOrigin, rateLimitPerClient(deps.rateLimitPerMinute, 'upload-token'), async (ctx) => {
    const request = await readJsonBody(ctx, uploadRequestSchema);
    const grant = await issueUploadGrant(deps, request);
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      upload_url: `${deps.publicUrl()}${TUS_PATH}`,
      token: grant.token,
      expires_at: new Date(grant.expiresAtMs).toISOString(),
      max_size: grant.maxSize,
      upload_id: grant.uploadId,
    };
  });

  router.options('/:upload_id', anyOrigin);
  router.get('/:upload_id', anyOrigin, rateLimitPerClient(deps.statusRateLimitPerMinute, 'upload-status'), async (ctx) => {
    const uploadId = ctx.params['upload_id'] ?? '';
    if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new AppError('not_found', 'no such upload');
    const record = await deps.uploads.get(uploadId);
    if (!record) throw new AppError('not_found', 'no such upload');
    const moderator = isModerator(ctx.get('authorization'));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      upload_id: record.upload_id,
      channel: record.channel,
      status: record.status,
      checks: moderator ? record.checks : record.checks.map(({ name, result }) => ({ name, result })),
      ...(record.media ? { media: record.media } : {}),
      ...(moderator ? { filename: record.filename, type: record.type, size: record.size, title: record.title, clip: record.clip } : {}),
    };
  });

  return router;
}

/** Hands `/uploads` and `/uploads/<id>` to tus, which writes the response itself; GET is never served. */
export function tusUploadMount(endpoint: TusEndpoint): Middleware<AppState> {
  return async (ctx, next) => {
    if (!isTusPath(ctx.path)) return next();
    if (!['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'].includes(ctx.method)) {
      throw new AppError('method_not_allowed', 'uploads in quarantine are never served');
    }
    ctx.respond = false;
    await endpoint.handle(ctx.req, ctx.res);
  };
}
