import cors from '@koa/cors';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { AuditLog } from '../audit/index.js';
import type { ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import { authorizePublisher, type PublisherGrants } from '../publishers/index.js';
import {
  TUS_PATH,
  UPLOAD_ID_PATTERN,
  isTusPath,
  issueReplayUploadGrant,
  issueUploadGrant,
  renewUploadGrant,
  uploadRenewalSchema,
  uploadRequestSchema,
  type TusEndpoint,
  type UploadGrants,
  type ReplayUploadLimits,
  type UploadLimits,
  type UploadStore,
} from '../uploads/index.js';
import type { AppState } from './app-state.js';
import { clientNetwork } from './middleware/client-network.js';
import { describeZodError, readJsonBody } from './middleware/read-body.js';
import { rateLimitPerClient } from './middleware/rate-limit.js';
import { presentedBearer, tokenMatches } from './middleware/require-bearer.js';

export interface UploadRouteDeps {
  readonly channels: ChannelRegistry;
  readonly uploads: UploadStore;
  readonly grants: UploadGrants;
  readonly limits: UploadLimits;
  /** Every grant is audited as `upload.granted`. */
  readonly audit: AuditLog;
  /** The audit actor of a client address (`client:…`, never the address). */
  readonly clientActor: (address: string) => string;
  /** Token requests per client a minute. */
  readonly rateLimitPerMinute: number;
  /** Reads per client a minute of an upload's status. */
  readonly statusRateLimitPerMinute: number;
  /** Where tus lives, as the outside world reaches it. */
  readonly publicUrl: () => string;
  /** Moderators see check details. */
  readonly moderatorTokens: () => readonly string[];
  /**
   * Publisher recordings (`source: broadcast`): the grants that allow them (`replay-upload`),
   * the admin token (which may too) and their own limits (`VOD_UPLOAD_MAX_BYTES`).
   */
  readonly replays: { readonly publisherGrants: PublisherGrants; readonly adminToken: () => string; readonly limits: ReplayUploadLimits };
  readonly now: () => number;
}

/** Pages on any origin ask for grants and read status; no credentials are involved. */
const anyOrigin = cors({ origin: '*', allowMethods: ['GET', 'POST', 'OPTIONS'], allowHeaders: ['Content-Type', 'Authorization'], exposeHeaders: ['Retry-After'], maxAge: 600 });

/**
 * `POST /api/v1/uploads/token` and `GET /api/v1/uploads/:upload_id`. Thin: validation, then one call each.
 *
 * `POST /token` with an upload request grants a new upload (201); 429 with `Retry-After` when the
 * client asks too often, the channel already has `UPLOAD_CHANNEL_MAX_PENDING` uploads on their
 * way, or this client (its network) `UPLOAD_CLIENT_MAX_PENDING` of them. With `{ "upload_id", "channel", "token" }` (the previous grant, possibly expired, as proof of possession) instead it re-grants: a fresh token for that upload, still
 * `uploading` (same id, size and type), so a client whose token expired resumes with tus HEAD and
 * PATCH (200; 404 unknown, 409 no longer uploading or expired; rate-limited like grants).
 * Every grant is audited as `upload.granted`.
 *
 * `source: "broadcast"` asks for a publisher's recording of their broadcast, which becomes a replay
 * ladder: it takes `Authorization: Bearer <publisher grant>` (with `replay-upload`, for this
 * channel) or the admin token (401 without, or expired; 403 forged or out of scope), its size
 * limit is `VOD_UPLOAD_MAX_BYTES`, and the channel needs a vod policy other than `off` (409),
 * whatever its viewer upload policy.
 */
export function uploadRoutes(deps: UploadRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/uploads' });
  const isModerator = (authorization: string): boolean => {
    const presented = presentedBearer(authorization);
    return presented !== undefined && deps.moderatorTokens().some((token) => tokenMatches(presented, token));
  };

  router.options('/token', anyOrigin);
  router.post('/token', anyOrigin, rateLimitPerClient(deps.rateLimitPerMinute, 'upload-token'), async (ctx) => {
    const body = await readJsonBody(ctx, z.unknown());
    const client = deps.clientActor(ctx.ip);
    const renewal = typeof body === 'object' && body !== null && 'upload_id' in body;
    const request = renewal ? undefined : parseBody(uploadRequestSchema, body);
    let grant;
    if (request?.source === 'broadcast') {
      const publisher = await authorizePublisher(
        { grants: deps.replays.publisherGrants, adminToken: deps.replays.adminToken },
        ctx.get('authorization') || undefined,
        { channel: request.channel, capability: 'replay-upload' },
      );
      grant = await issueReplayUploadGrant(deps, deps.replays.limits, request, publisher.actor);
    } else {
      grant = request
        ? await issueUploadGrant(deps, request, client, deps.clientActor(clientNetwork(ctx.ip)))
        : await renewUploadGrant(deps, parseBody(uploadRenewalSchema, body), client);
    }
    ctx.status = renewal ? 200 : 201;
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
      provenance: record.provenance ?? null,
      ...(record.media ? { media: record.media } : {}),
      ...(record.replay ? { replay: record.replay } : {}),
      ...(moderator ? { filename: record.filename, type: record.type, size: record.size, title: record.title, clip: record.clip } : {}),
      // Which moderation rules version decided it, and how it is to be published (approved with faces blurred): moderators only.
      ...(moderator && record.moderation ? { moderation: record.moderation } : {}),
      ...(moderator && record.publish_options ? { publish_options: record.publish_options } : {}),
    };
  });

  return router;
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AppError('invalid_body', describeZodError(parsed.error));
  return parsed.data;
}

/** Hands `/uploads` and `/uploads/<id>` to tus, which writes the response itself; GET is never served. */
/** The methods of tus 1.0 (creation, termination, resume). */
const TUS_METHODS: readonly string[] = ['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'];

export function tusUploadMount(endpoint: TusEndpoint, clientActor: (address: string) => string): Middleware<AppState> {
  return async (ctx, next) => {
    if (!isTusPath(ctx.path)) return next();
    if (!TUS_METHODS.includes(ctx.method)) {
      throw new AppError('method_not_allowed', 'uploads in quarantine are never served', { headers: { Allow: TUS_METHODS.join(', ') } });
    }
    ctx.respond = false;
    await endpoint.handle(ctx.req, ctx.res, clientActor(ctx.ip));
  };
}
