import { createHmac, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { formatChannelRef, parseCanonicalId } from '@live-upload/schema';
import { MAX_BEACON_BODY_BYTES, audienceReport, beaconBodySchema, type AudienceStore, type BeaconIntake } from '../audience/index.js';
import { AppError } from '../errors/index.js';
import { authorizePublisher, type PublisherGrants } from '../publishers/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';
import { clientNetwork } from './middleware/client-network.js';
import { rateLimitPerClient } from './middleware/rate-limit.js';
import { describeZodError, parseJson, readRawBody } from './middleware/read-body.js';

export interface AudienceRouteDeps {
  readonly intake: BeaconIntake;
  readonly store: AudienceStore;
  readonly grants: PublisherGrants;
  readonly adminToken: () => string;
  /** Our public base URL: the landing page's origin. */
  readonly publicUrl: () => string;
  /** Beacons a client (its network, hashed) may send a minute. */
  readonly beaconsPerMinute: number;
  readonly now?: () => number;
}

/** `navigator.sendBeacon` posts a string as text/plain and a Blob as its own type: both are taken. */
const BEACON_MEDIA_TYPES = ['text/plain', 'application/json'];

/**
 * The audience routes (issue 27).
 * - `POST /api/v1/beacons`: a viewing session's beacon (`beaconBodySchema`), from any origin,
 *   without credentials; 202 once it is on the bus. No cookie is read or set and no address is
 *   kept: the rate limit counts a keyed hash of the client's network whose key is random per
 *   process and never leaves memory. 400 / 404 (no such channel) / 413 / 415 / 429 as JSON.
 * - `GET /api/v1/channels/:publisher/:slug/broadcasts/:canonical_id/audience`: the broadcast's
 *   audience report (`audienceReport`), for the admin token or a publisher grant of the channel
 *   with the `audience` capability.
 */
export function audienceRoutes(deps: AudienceRouteDeps): Router<AppState> {
  const router = new Router<AppState>();
  const now = deps.now ?? Date.now;
  const salt = randomBytes(32);
  const clientKey = (ip: string) => createHmac('sha256', salt).update(clientNetwork(ip)).digest('base64url');
  const beaconCors = async (ctx: Context, next: () => Promise<unknown>) => {
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Access-Control-Allow-Methods', 'POST, OPTIONS');
    ctx.set('Access-Control-Allow-Headers', 'Content-Type');
    ctx.set('Access-Control-Max-Age', '600');
    await next();
  };

  router.options('/api/v1/beacons', beaconCors, (ctx) => {
    ctx.status = 204;
  });
  router.post('/api/v1/beacons', beaconCors, rateLimitPerClient(deps.beaconsPerMinute, 'audience-beacon', clientKey), async (ctx) => {
    const mediaType = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
    if (!BEACON_MEDIA_TYPES.includes(mediaType)) throw new AppError('unsupported_media_type', 'a beacon is sent as text/plain or application/json (navigator.sendBeacon)');
    const raw = await readRawBody(ctx, MAX_BEACON_BODY_BYTES);
    const parsed = beaconBodySchema.safeParse(parseJson(raw));
    if (!parsed.success) throw new AppError('invalid_body', describeZodError(parsed.error));
    await deps.intake.accept(parsed.data, { now: now(), publicOrigin: new URL(deps.publicUrl()).origin, requestOrigin: ctx.get('origin') || undefined });
    ctx.status = 202;
    ctx.body = { accepted: true };
  });

  router.get('/api/v1/channels/:publisher/:slug/broadcasts/:canonical_id/audience', async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const channel = formatChannelRef(ref);
    await authorizePublisher({ grants: deps.grants, adminToken: deps.adminToken }, ctx.get('authorization') || undefined, { channel, capability: 'audience' });
    const canonicalId = ctx.params['canonical_id'] ?? '';
    const parsed = parseCanonicalId(canonicalId);
    if (!parsed) throw new AppError('bad_request', 'canonical_id must be stream:{publisher}:{slug}:{ulid}');
    if (parsed.publisher !== ref.publisher || parsed.slug !== ref.slug) throw new AppError('not_found', `${canonicalId} is not a broadcast of ${channel}`);
    ctx.set('Cache-Control', 'private, no-store');
    ctx.body = audienceReport(canonicalId, channel, await deps.store.minutesOf(canonicalId));
  });
  return router;
}
