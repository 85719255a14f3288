import Router from '@koa/router';
import { formatChannelRef, parseCanonicalId, summarizeLiveMetadata, type LatestReplay } from '@live-upload/schema';
import type { ChannelRegistry } from '../channels/index.js';
import { channelInputSchema } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import type { LiveStatusHub } from '../live/index.js';
import { originLimitsAboveCeiling, type OriginLimitCeiling } from '../origin/origin-limits.js';
import type { VodStore } from '../vod-jobs/index.js';
import type { AppState } from './app-state.js';
import { latestPublicReplay, type PublicReplay } from './latest-public-replay.js';
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
  /** Replay records: `/status` lists the channel's latest public replay. Absent: no `latest_replay`. */
  readonly vods?: VodStore;
  /** Where the outside world reaches this server: the replay's URLs are made absolute under it. */
  readonly publicUrl: () => string;
  /** The server-wide origin limits: a channel's `origin_limits` above them is a 400 (a channel lowers them, never raises). */
  readonly originLimitCeiling: OriginLimitCeiling;
}

/** A published replay as `/status` lists it, its paths on this server made absolute under `base`. */
function latestReplayOf(record: PublicReplay, base: string): LatestReplay {
  const root = base.replace(/\/+$/, '');
  return {
    canonical_id: record.canonical_id,
    url: `${root}${record.urls.master}`,
    poster: record.urls.poster === undefined ? null : `${root}${record.urls.poster}`,
    duration_s: record.duration_s ?? null,
    ended_at: record.ended_at ?? null,
  };
}

/**
 * Admin writes and public reads of channels. Thin: validation, then one call each. `/status`
 * (the summary) also lists the channel's latest public replay (`latest_replay`, null when none);
 * the full record (`GET /:publisher/:slug`) does not: it is the canonical record as published
 * on the bus and described by `/schema/{version}.json` (no additional properties).
 */
export function channelRoutes(deps: ChannelRouteDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/channels' });

  router.put('/:publisher/:slug', deps.requireAdmin, async (ctx) => {
    const ref = channelFromParams(ctx.params);
    const input = await readJsonBody(ctx, channelInputSchema);
    const aboveCeiling = originLimitsAboveCeiling(input.origin_limits, deps.originLimitCeiling);
    if (aboveCeiling) throw new AppError('invalid_body', aboveCeiling);
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
      const config = deps.vods ? await deps.channels.get(channelFromParams(ctx.params)) : undefined;
      const replay = deps.vods && config ? await latestPublicReplay(deps.vods, config) : undefined;
      const summary = {
        ...summarizeLiveMetadata(current.record),
        ...(deps.vods ? { latest_replay: replay ? latestReplayOf(replay, deps.publicUrl()) : null } : {}),
      };
      ctx.set('Cache-Control', 'public, max-age=2, stale-while-revalidate=10');
      // A replay published (or re-published) after the last status change is a new answer too.
      const replayTag = replay ? `-${parseCanonicalId(replay.canonical_id)?.ulid ?? ''}-${Date.parse(replay.updated_at).toString(36)}` : '';
      const etag = `W/"${summary.seq}-${Date.parse(current.record.updated_at).toString(36)}${replayTag}"`;
      if (answeredNotModified(ctx, etag)) return;
      ctx.body = summary;
    },
  );

  return router;
}
