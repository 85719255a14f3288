import Router from '@koa/router';
import { createCanonicalId, formatChannelRef, parseCanonicalId, type ChannelRef } from '@live-upload/schema';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import type { Bus } from '../bus/index.js';
import { DEFAULT_VOD_POLICY, type ChannelConfig, type ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import { DeliveryRefusedError, HostUnresolvedError, WebhookUrlError, parseWebhookUrl, resolveDeliveryTarget } from '../outbound/index.js';
import type { SourcePolicy } from '../vod-ingest/index.js';
import { MAX_VOD_PAGE, enqueueVodJob, type VodRecord, type VodStore } from '../vod-jobs/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';
import { readJsonBody } from './middleware/read-body.js';
import { rateLimitPerClient } from './middleware/rate-limit.js';
import { presentedBearer, tokenMatches } from './middleware/require-bearer.js';

/** `POST .../vods`: a finished HLS VOD to make a replay of. */
export const vodRequestSchema = z.strictObject({
  /** An absolute http(s) URL of an HLS VOD playlist; checked against the SSRF rules when asked. */
  url: z.string().min(1).max(2048),
  title: z.string().trim().min(1).max(300).optional(),
});

const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const DEFAULT_PAGE = 20;

export interface VodRouteDeps {
  readonly bus: Bus;
  readonly channels: ChannelRegistry;
  readonly vods: VodStore;
  readonly requireAdmin: Middleware<AppState>;
  /** The admin token: a GET with it sees every state; without a token, only public replays. */
  readonly adminToken: () => string;
  /** The outbound webhooks' SSRF policy (OUTBOUND_ALLOW_PRIVATE_HOSTS), applied to a VOD URL when it is handed in. */
  readonly sources: SourcePolicy;
  readonly rateLimitPerMinute: number;
  /** A handed-in VOD playlist is audited (`vod.requested`: who, which channel, the source URL). */
  readonly audit: AuditLog;
  readonly now?: () => number;
}

/**
 * A channel's replays (issue 21).
 * - `POST /api/v1/channels/:publisher/:slug/vods` (admin): a VOD playlist URL becomes a replay
 *   job (`vod-playlist`) under a new canonical id; 202 with the record and its `Location`. The
 *   URL is refused (400) unless it is absolute http(s) without credentials and its host resolves
 *   only to public addresses (or is allowed): the worker checks each fetch again, this answers
 *   the caller now.
 * - `GET .../vods?limit=&cursor=` and `GET .../vods/:ulid`: without a token, only `published`
 *   replays, listed only when the channel's policy is `public` (an `unlisted` replay is served
 *   by its own URL, `off` by none); with the admin token, every state with its progress.
 */
export function vodRoutes(deps: VodRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/channels' });
  const now = deps.now ?? Date.now;
  const limited = rateLimitPerClient(deps.rateLimitPerMinute, 'vods');

  router.post('/:publisher/:slug/vods', deps.requireAdmin, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const config = await channelOf(deps.channels, ref);
    const input = await readJsonBody(ctx, vodRequestSchema);
    if (policyOf(config) === 'off') throw new AppError('conflict', `channel ${config.channel} keeps no replays (its vod policy is off)`);
    const url = await checkedSourceUrl(input.url, deps.sources);
    const nowMs = now();
    const canonicalId = createCanonicalId(ref, nowMs);
    const nowIso = new Date(nowMs).toISOString();
    await enqueueVodJob(
      deps.bus,
      {
        canonical_id: canonicalId,
        channel: config.channel,
        source: { kind: 'vod-playlist', url },
        started_at: nowIso,
        ...(input.title ? { title: input.title } : {}),
        requested_at: nowIso,
      },
      { vods: deps.vods, now },
    );
    await deps.audit.record({
      actor: 'admin',
      action: AUDIT_ACTIONS.vodRequested,
      target: canonicalId,
      details: { channel: config.channel, source_url: url },
      msgId: `audit:${AUDIT_ACTIONS.vodRequested}:${canonicalId}`,
    });
    const location = `/api/v1/channels/${config.channel}/vods/${parseCanonicalId(canonicalId)!.ulid}`;
    ctx.status = 202;
    ctx.set('Location', location);
    ctx.body = { vod: await deps.vods.get(canonicalId), location };
  });

  router.get('/:publisher/:slug/vods', limited, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const admin = isAdmin(ctx, deps.adminToken);
    const config = await channelOf(deps.channels, ref);
    const limit = pageLimit(ctx.query['limit']);
    const cursor = pageCursor(ctx.query['cursor']);
    ctx.set('Cache-Control', admin ? 'no-store' : 'no-cache');
    if (admin) {
      const page = await deps.vods.list(config.channel, { limit, ...(cursor ? { cursor } : {}) });
      ctx.body = { vods: page.vods, next: page.next_cursor ?? null };
      return;
    }
    if (policyOf(config) !== 'public') {
      ctx.body = { vods: [], next: null };
      return;
    }
    // Only published replays: read pages of every state until `limit` of them, newest first.
    const vods: VodRecord[] = [];
    let next: string | undefined = cursor;
    let more = false;
    for (;;) {
      const page = await deps.vods.list(config.channel, { limit: MAX_VOD_PAGE, ...(next ? { cursor: next } : {}) });
      let index = 0;
      for (; index < page.vods.length && vods.length < limit; index++) {
        const record = page.vods[index]!;
        if (record.state === 'published') vods.push(publicView(record));
      }
      if (vods.length >= limit) {
        more = index < page.vods.length || page.next_cursor !== undefined;
        break;
      }
      if (page.next_cursor === undefined) break;
      next = page.next_cursor;
    }
    const last = vods.at(-1);
    ctx.body = { vods, next: more && last ? parseCanonicalId(last.canonical_id)!.ulid : null };
  });

  router.get('/:publisher/:slug/vods/:ulid', limited, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const admin = isAdmin(ctx, deps.adminToken);
    const ulid = ctx.params['ulid'] ?? '';
    if (!ULID_PATTERN.test(ulid)) throw new AppError('not_found', 'no such replay');
    const config = await channelOf(deps.channels, ref);
    const record = await deps.vods.get(`stream:${ref.publisher}:${ref.slug}:${ulid}`);
    const visible = record && (admin || (record.state === 'published' && policyOf(config) !== 'off'));
    if (!visible) throw new AppError('not_found', 'no such replay');
    ctx.set('Cache-Control', admin ? 'no-store' : 'no-cache');
    ctx.body = admin ? record : publicView(record);
  });

  return router;
}

async function channelOf(channels: ChannelRegistry, ref: ChannelRef): Promise<ChannelConfig> {
  const config = await channels.get(ref);
  if (!config) throw new AppError('not_found', `no channel ${formatChannelRef(ref)}`);
  return config;
}

function policyOf(config: ChannelConfig): ChannelConfig['vod'] {
  return config.vod ?? DEFAULT_VOD_POLICY;
}

/** A published replay as anyone sees it (no worker detail). */
function publicView(record: VodRecord): VodRecord {
  const { progress: _progress, failure: _failure, ...rest } = record;
  return rest;
}

/** True with the admin token; a token that is not the admin's is a 401, not a quiet public view. */
function isAdmin(ctx: Context, adminToken: () => string): boolean {
  const header = ctx.get('authorization');
  if (header === '') return false;
  const presented = presentedBearer(header);
  if (presented !== undefined && tokenMatches(presented, adminToken())) return true;
  throw new AppError('unauthorized', 'a valid bearer token is required (or none, for public replays)', { headers: { 'WWW-Authenticate': 'Bearer realm="live-upload"' } });
}

function pageLimit(value: string | string[] | undefined): number {
  if (value === undefined) return DEFAULT_PAGE;
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > MAX_VOD_PAGE) {
    throw new AppError('bad_request', `limit must be a whole number from 1 to ${MAX_VOD_PAGE}`);
  }
  return Number(value);
}

function pageCursor(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ULID_PATTERN.test(value)) throw new AppError('bad_request', 'cursor must be the next value of a previous page');
  return value;
}

/** Syntax, scheme and credentials, then the SSRF rule on what the host resolves to now; the URL as it will be fetched. */
async function checkedSourceUrl(text: string, sources: SourcePolicy): Promise<string> {
  try {
    const url = parseWebhookUrl(text, { requireHttps: false });
    await resolveDeliveryTarget(url, { allowPrivateHosts: sources.allowPrivateHosts, ...(sources.resolve ? { resolve: sources.resolve } : {}) });
    return url.href;
  } catch (error) {
    if (error instanceof WebhookUrlError || error instanceof DeliveryRefusedError || error instanceof HostUnresolvedError) {
      throw new AppError('invalid_body', `url: ${error.message}`);
    }
    throw error;
  }
}
