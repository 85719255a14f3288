import type { Middleware } from 'koa';
import { isCanonicalId } from '@live-upload/schema';
import { AppError } from '../errors/index.js';
import type { AppState } from '../http/app-state.js';
import { anyOriginMediaCors } from '../http/media-route.js';
import { sendObject } from '../http/send-object.js';
import type { ObjectStore } from '../storage/index.js';
import { VOD_URL_PREFIX, vodFileFor, vodOutputPrefix } from './vod-files.js';
import type { VodStore } from './vod-store.js';

export interface VodReplayRouteDeps {
  readonly vods: VodStore;
  /** Where the VOD worker writes `vods/{publisher}/{slug}/{ulid}/...`. */
  readonly media: ObjectStore;
}

/** A replay's files never change once published, so caches may keep them for a year. */
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

/** `/vod/{publisher}/{slug}/{ulid}/{path in the replay}` on the raw (undecoded) path. */
const VOD_PATH = /^\/vod\/([a-z0-9][a-z0-9-]{0,38})\/([a-z0-9][a-z0-9-]{0,38})\/([0-9A-HJKMNP-TV-Z]{26})\/(.+)$/;

/**
 * `GET /vod/{publisher}/{slug}/{ulid}/...`: the files of published replays only (master and
 * rendition playlists, init sections, CMAF segments, poster, storyboard), from the media store
 * through `sendObject` (ranges, validators), like `/media`. The path must be a broadcast's and
 * one of the names the ladder writes, compared before anything is decoded; a replay that is not
 * `published` (queued, transcoding, failed, cancelled) answers 404 like an unknown one.
 */
export function vodReplayRoute(deps: VodReplayRouteDeps): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.path !== VOD_URL_PREFIX && !ctx.path.startsWith(`${VOD_URL_PREFIX}/`)) return next();
    ctx._matchedRoute = `${VOD_URL_PREFIX}/:publisher/:slug/:ulid/:file`;
    await anyOriginMediaCors(ctx, async () => {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new AppError('method_not_allowed', 'replays are read-only');
      const match = VOD_PATH.exec(ctx.path);
      const file = match?.[4] === undefined ? undefined : vodFileFor(match[4]);
      const canonicalId = match ? `stream:${match[1]}:${match[2]}:${match[3]}` : '';
      if (!file || !isCanonicalId(canonicalId)) throw new AppError('not_found', 'no such replay');
      const record = await deps.vods.get(canonicalId);
      if (record?.state !== 'published') throw new AppError('not_found', 'no such replay');
      await sendObject(ctx, deps.media, `${vodOutputPrefix(canonicalId)}${file.relativePath}`, {
        headers: {
          'Content-Type': file.contentType,
          'Cache-Control': `public, max-age=${ONE_YEAR_SECONDS}, immutable`,
          'X-Content-Type-Options': 'nosniff',
        },
      });
    });
  };
}
