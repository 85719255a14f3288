import type { Middleware } from 'koa';
import { parseChannelRef } from '@live-upload/schema';
import { AppError } from '../errors/index.js';
import { ORIGIN_LADDER_FILE_PATTERN, originContentType } from '../origin/live-hls-mirror.js';
import { originKeyPrefix } from '../origin/origin-session.js';
import type { ObjectStore } from '../storage/index.js';
import type { AppState } from './app-state.js';
import { anyOriginMediaCors } from './media-route.js';
import { sendObject } from './send-object.js';

export interface OriginMediaRouteDeps {
  /** The media store the origin's `LiveHlsMirror` writes to (a directory, or the fleet's media bucket). */
  readonly media: ObjectStore;
}

const ORIGIN_URL_PREFIX = '/origin';

/**
 * `/origin/{publisher}/{slug}/{session_id}/{file}` on the raw (undecoded) path: the master
 * playlist, or a rung's playlist, init segment or media segment. Anything else (a `%`-escape,
 * `..`, another name) is no file of ours.
 */
const ORIGIN_PATH = new RegExp(`^/origin/([a-z0-9][a-z0-9-]{0,62})/([a-z0-9][a-z0-9-]{0,62})/([0-9A-HJKMNP-TV-Z]{26})/(${ORIGIN_LADDER_FILE_PATTERN})$`);

/** A playlist of a live ladder changes every segment: players must ask again each time. */
const PLAYLIST_CACHE = 'no-cache';
/** A segment's name is never reused within a session, and a session id never twice: cacheable for a year. */
const SEGMENT_CACHE = `public, max-age=${365 * 24 * 60 * 60}, immutable`;

/**
 * `GET /origin/...`: our own origin's live HLS ladder (issue 23), read from the media store, so
 * every replica serves every session whichever replica terminates its WebRTC. Like `/media`:
 * ranges and validators (`sendObject`), exact types, any-origin CORS (players on other sites),
 * `nosniff`; playlists `no-cache` (a live window moves every 2 s), segments immutable. The path
 * is matched whole before anything is read; what is not there (an unknown session, a segment
 * already gone) is a JSON 404.
 */
export function originMediaRoute(deps: OriginMediaRouteDeps): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.path !== ORIGIN_URL_PREFIX && !ctx.path.startsWith(`${ORIGIN_URL_PREFIX}/`)) return next();
    ctx._matchedRoute = `${ORIGIN_URL_PREFIX}/:publisher/:slug/:session_id/:file`;
    await anyOriginMediaCors(ctx, async () => {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new AppError('method_not_allowed', 'the origin is read-only');
      const match = ORIGIN_PATH.exec(ctx.path);
      const channel = match ? `${match[1]}/${match[2]}` : undefined;
      if (!match || !channel || !parseChannelRef(channel)) throw new AppError('not_found', 'no such origin file');
      const file = match[4]!;
      const playlist = file.endsWith('.m3u8');
      await sendObject(ctx, deps.media, `${originKeyPrefix(channel, match[3]!)}${file}`, {
        headers: {
          'Content-Type': originContentType(file)!,
          'Cache-Control': playlist ? PLAYLIST_CACHE : SEGMENT_CACHE,
          'X-Content-Type-Options': 'nosniff',
        },
      });
    });
  };
}
