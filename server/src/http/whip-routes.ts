import Router from '@koa/router';
import { formatChannelRef } from '@live-upload/schema';
import type { Middleware } from 'koa';
import type { ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import { ChannelAlreadyLiveError, GrantAlreadyUsedError, UnanswerableOfferError, inspectWhipOffer, type WhipOrigin } from '../origin/index.js';
import { authorizePublisher, type PublisherGrants } from '../publishers/index.js';
import type { AppState } from './app-state.js';
import { channelFromParams } from './middleware/channel-param.js';
import { rateLimitPerClient } from './middleware/rate-limit.js';
import { readRawBody } from './middleware/read-body.js';

export interface WhipRouteDeps {
  readonly origin: WhipOrigin;
  readonly channels: ChannelRegistry;
  readonly grants: PublisherGrants;
  readonly adminToken: () => string;
  readonly limits: {
    /** The largest SDP offer taken (`WHIP_MAX_OFFER_BYTES`). */
    readonly maxOfferBytes: number;
    /** Offers per client address a minute (`WHIP_OFFERS_PER_MINUTE`). */
    readonly offersPerMinute: number;
    /** Sessions this replica terminates at once (`ORIGIN_MAX_SESSIONS`). */
    readonly maxSessions: number;
  };
}

/** Where a session's WHIP resource lives (RFC 9725 `Location`). */
export function whipSessionPath(sessionId: string): string {
  return `/api/v1/whip/sessions/${sessionId}`;
}

const SESSION_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * WHIP pages are on the publisher's host site, not ours: every origin may post an offer and
 * end its session (the bearer grant, not a cookie, is what authorizes), and must read
 * `Location` and `ETag` to do so.
 */
function whipCors(methods: string): Middleware<AppState> {
  return async (ctx, next) => {
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Access-Control-Expose-Headers', 'Location, ETag, Link, Retry-After, Accept-Patch, X-Request-Id');
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', methods);
      ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match');
      ctx.set('Access-Control-Max-Age', '600');
      ctx.set('Allow', methods);
      ctx.status = 204;
      return;
    }
    await next();
  };
}

/**
 * Going live into our own origin with WHIP (RFC 9725, issue 23):
 *
 * - `POST /api/v1/channels/:publisher/:slug/whip` with `Authorization: Bearer <publisher grant
 *   carrying go-live>` (or the admin token) and an `application/sdp` offer: `201` with the SDP
 *   answer, `Location: /api/v1/whip/sessions/{id}` and an `ETag`. Refusals are JSON errors:
 *   401 (no or expired grant), 403 (not our grant, another channel's, no `go-live`, or a grant
 *   that already opened a session: single-use, fleet-wide), 404 (no such channel), 409 (the
 *   channel already has a session, from anywhere), 413 (offer over `WHIP_MAX_OFFER_BYTES`), 415
 *   (not `application/sdp`), 400 (not SDP), 422 (no H.264/VP8 video, audio not Opus, more
 *   than one track of a kind, no ICE or DTLS attributes, or werift could not answer), 429 (too
 *   many offers from one address), 503 (this replica terminates `ORIGIN_MAX_SESSIONS` already).
 *   The session runs under the channel's `origin_limits` where they are lower than the server's
 *   (`effectiveOriginLimits`): the channel is read from the bus for each offer, so whichever
 *   replica answers applies the limits an admin last wrote on any replica.
 * - `DELETE /api/v1/whip/sessions/:id` ends the session (200), on whichever replica terminates it.
 *   The resource URL is the capability (a ULID with 80 random bits), as RFC 9725 allows: a
 *   publisher whose grant expired during a long broadcast can still end it.
 * - `PATCH` on the session: `405` with `Allow` (RFC 9725 4.3.1): no trickle ICE or ICE restart;
 *   the answer carries all of the server's candidates and clients put theirs in the offer
 *   (werift takes remote candidates, but a restart would need a second ladder hand-over).
 */
export function whipRoutes(deps: WhipRouteDeps): Router<AppState> {
  const router = new Router<AppState>();
  const endpointCors = whipCors('POST, OPTIONS');
  const sessionCors = whipCors('DELETE, OPTIONS');

  router.options('/api/v1/channels/:publisher/:slug/whip', endpointCors);
  router.post(
    '/api/v1/channels/:publisher/:slug/whip',
    endpointCors,
    rateLimitPerClient(deps.limits.offersPerMinute, 'whip-offer'),
    async (ctx) => {
      const ref = channelFromParams(ctx.params);
      const channel = formatChannelRef(ref);
      const actor = await authorizePublisher({ grants: deps.grants, adminToken: deps.adminToken }, ctx.get('authorization') || undefined, { channel, capability: 'go-live' });
      const mediaType = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
      if (mediaType !== 'application/sdp') {
        throw new AppError('unsupported_media_type', `a WHIP offer is sent as Content-Type: application/sdp, not ${mediaType || 'nothing'}`, { headers: { 'Accept-Post': 'application/sdp' } });
      }
      const raw = await readRawBody(ctx, deps.limits.maxOfferBytes);
      let sdp: string;
      try {
        sdp = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch {
        throw new AppError('bad_request', 'the SDP offer is not UTF-8 text');
      }
      if (!sdp.startsWith('v=0')) throw new AppError('bad_request', 'the body is not an SDP offer (it must start with v=0)');
      const inspection = inspectWhipOffer(sdp);
      if (!inspection.ok) throw new AppError('unprocessable', inspection.reason);
      // Read from the bus for each offer (not cached): every replica answers with the channel's current limits.
      const config = await deps.channels.get(ref);
      if (!config) throw new AppError('not_found', `no channel ${channel}`);
      if (deps.origin.localSessions.size >= deps.limits.maxSessions) {
        throw new AppError('over_capacity', 'this server is terminating as many live sessions as it can; retry shortly', { headers: { 'Retry-After': '10' } });
      }
      try {
        const { session, answerSdp } = await deps.origin.offer({ channel, grantId: actor.grantId, offer: { sdp, summary: inspection.summary }, channelLimits: config.origin_limits });
        ctx.status = 201;
        ctx.type = 'application/sdp';
        ctx.set('Location', whipSessionPath(session.sessionId));
        ctx.set('ETag', `"${session.sessionId}"`);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = answerSdp;
      } catch (error) {
        if (error instanceof ChannelAlreadyLiveError) throw new AppError('conflict', `${channel} is already live from another connection; end that session first`);
        if (error instanceof GrantAlreadyUsedError) throw new AppError('forbidden', error.message);
        if (error instanceof UnanswerableOfferError) throw new AppError('unprocessable', error.message);
        throw error;
      }
    },
  );

  router.options('/api/v1/whip/sessions/:id', sessionCors);
  router.delete('/api/v1/whip/sessions/:id', sessionCors, async (ctx) => {
    const sessionId = ctx.params['id'] ?? '';
    if (!SESSION_ID.test(sessionId)) throw new AppError('not_found', 'no such WHIP session');
    const outcome = await deps.origin.end(sessionId, 'deleted');
    if (outcome === 'not-found') throw new AppError('not_found', 'no such WHIP session (it may have ended already)');
    ctx.status = 200;
    ctx.body = { session_id: sessionId, state: 'ended' };
  });
  router.patch('/api/v1/whip/sessions/:id', sessionCors, () => {
    throw new AppError('method_not_allowed', 'this server does not take trickle ICE or ICE restarts: send every candidate in the offer', {
      headers: { Allow: 'DELETE, OPTIONS' },
    });
  });

  return router;
}
