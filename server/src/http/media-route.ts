import cors from '@koa/cors';
import type { Middleware } from 'koa';
import { AppError } from '../errors/index.js';
import { MEDIA_URL_PREFIX, publishedFileFor } from '../publishing/index.js';
import type { ObjectStore } from '../storage/index.js';
import { UPLOAD_ID_PATTERN, type UploadStore } from '../uploads/index.js';
import type { AppState } from './app-state.js';
import { sendObject } from './send-object.js';

export interface MediaRouteDeps {
  readonly uploads: UploadStore;
  /** Where the promotion worker puts `{upload_id}/...` (a directory, or the media bucket of a fleet). */
  readonly media: ObjectStore;
}

/** Names never change for an upload id, so caches may keep them for a year without asking. */
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

/** `/media/{upload_id}/{path in the upload}` on the raw (undecoded) path. */
const MEDIA_PATH = /^\/media\/([^/]+)\/(.+)$/;

/** CORS of published media (`/media`, `/vod`): players on any page fetch it, with ranges; no credentials are involved. */
export const anyOriginMediaCors = cors({
  origin: '*',
  allowMethods: ['GET', 'HEAD', 'OPTIONS'],
  allowHeaders: ['Range', 'If-None-Match', 'If-Modified-Since', 'If-Range'],
  exposeHeaders: ['Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag', 'Last-Modified'],
  maxAge: 600,
});

/**
 * `GET /media/{upload_id}/...`: the files of published uploads only (MP4, HLS playlist and
 * segments, poster), with ranges, validators, exact types and an immutable year of caching.
 * The id must be a ULID and the rest one of the names the transcode writes, compared before
 * anything is decoded; an upload that is not `published` answers 404 like an unknown one.
 *
 * The bytes come through us from the media store (a directory, or the media bucket), never as
 * a redirect to a presigned URL: one origin keeps CORS, the element page's CSP and these cache
 * headers ours, the published-only check stays on every request (a rejected or deleted upload
 * stops being served at once, where a presigned URL handed out stays valid until it expires),
 * HLS playlists' relative segment URLs keep resolving to us, and no bucket has to be reachable
 * from viewers. What it costs, a replica's bandwidth, is what a CDN in front is for: every
 * answer is immutable for a year, so it caches each object once.
 */
export function mediaRoute(deps: MediaRouteDeps): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.path !== MEDIA_URL_PREFIX && !ctx.path.startsWith(`${MEDIA_URL_PREFIX}/`)) return next();
    ctx._matchedRoute = `${MEDIA_URL_PREFIX}/:upload_id/:file`;
    await anyOriginMediaCors(ctx, async () => {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new AppError('method_not_allowed', 'media is read-only');
      const match = MEDIA_PATH.exec(ctx.path);
      const uploadId = match?.[1] ?? '';
      const file = match?.[2] === undefined ? undefined : publishedFileFor(match[2]);
      if (!file || !UPLOAD_ID_PATTERN.test(uploadId)) throw new AppError('not_found', 'no such media');
      const record = await deps.uploads.get(uploadId);
      if (record?.status !== 'published') throw new AppError('not_found', 'no such media');
      await sendObject(ctx, deps.media, `${uploadId}/${file.relativePath}`, {
        headers: {
          'Content-Type': file.contentType,
          'Cache-Control': `public, max-age=${ONE_YEAR_SECONDS}, immutable`,
          'X-Content-Type-Options': 'nosniff',
        },
      });
    });
  };
}
