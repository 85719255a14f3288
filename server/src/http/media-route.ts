import { join } from 'node:path';
import cors from '@koa/cors';
import type { Middleware } from 'koa';
import { AppError } from '../errors/index.js';
import { MEDIA_URL_PREFIX, publishedFileFor } from '../publishing/index.js';
import { UPLOAD_ID_PATTERN, type UploadStore } from '../uploads/index.js';
import type { AppState } from './app-state.js';
import { sendFile } from './send-file.js';

export interface MediaRouteDeps {
  readonly uploads: UploadStore;
  /** Where the promotion worker puts `{upload_id}/`. */
  readonly mediaDir: string;
}

/** Names never change for an upload id, so caches may keep them for a year without asking. */
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** `/media/{upload_id}/{path in the upload}` on the raw (undecoded) path. */
const MEDIA_PATH = /^\/media\/([^/]+)\/(.+)$/;

/** Players on any page fetch media, with ranges; no credentials are involved. */
const anyOrigin = cors({
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
 */
export function mediaRoute(deps: MediaRouteDeps): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.path !== MEDIA_URL_PREFIX && !ctx.path.startsWith(`${MEDIA_URL_PREFIX}/`)) return next();
    ctx._matchedRoute = `${MEDIA_URL_PREFIX}/:upload_id/:file`;
    await anyOrigin(ctx, async () => {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new AppError('method_not_allowed', 'media is read-only');
      const match = MEDIA_PATH.exec(ctx.path);
      const uploadId = match?.[1] ?? '';
      const file = match?.[2] === undefined ? undefined : publishedFileFor(match[2]);
      if (!file || !UPLOAD_ID_PATTERN.test(uploadId)) throw new AppError('not_found', 'no such media');
      const record = await deps.uploads.get(uploadId);
      if (record?.status !== 'published') throw new AppError('not_found', 'no such media');
      await sendFile(ctx, { root: join(deps.mediaDir, uploadId), path: `/${file.relativePath}` }, {
        send: { acceptRanges: true, etag: true, lastModified: true, maxAge: ONE_YEAR_MS, immutable: true },
        headers: { 'Content-Type': file.contentType, 'X-Content-Type-Options': 'nosniff' },
      });
    });
  };
}
