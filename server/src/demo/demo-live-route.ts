import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import type { AppState } from '../http/app-state.js';
import { sendFile } from '../http/send-file.js';
import { DEMO_LIVE_PLAYLIST, DEMO_LIVE_SEGMENT_PATTERN } from './demo-live-source.js';
import type { DemoLiveStream } from './demo-live-stream.js';

/** Where the demo's live playlist is served. */
export const DEMO_LIVE_PATH = `/demo/live/${DEMO_LIVE_PLAYLIST}`;

/** Any page may play the demo stream, also a cross-origin-isolated one (COEP). */
const OPEN_HEADERS = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'X-Content-Type-Options': 'nosniff' } as const;

/**
 * `GET /demo/live/index.m3u8` and `GET /demo/live/segment-{n}.ts`: the demo stream's rolling
 * playlist (never cached: it changes every segment) and its segments, from the stream's own
 * directory. Only those two name shapes reach the disk; 404 while the stream is offline.
 */
export function demoLiveRoute(stream: DemoLiveStream | undefined): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/demo/live/:file', async (ctx) => {
    const file = ctx.params['file'] ?? '';
    const playlist = file === DEMO_LIVE_PLAYLIST;
    if (!playlist && !DEMO_LIVE_SEGMENT_PATTERN.test(file)) throw new AppError('not_found', 'no such file of the demo stream');
    if (!stream?.live) throw new AppError('not_found', 'the demo stream is offline');
    await sendFile(ctx, { root: stream.dir, path: `/${file}` }, {
      send: { maxAge: 0, immutable: false, cacheControl: false, etag: !playlist, lastModified: !playlist },
      headers: {
        ...OPEN_HEADERS,
        'Content-Type': playlist ? 'application/vnd.apple.mpegurl' : 'video/mp2t',
        // A segment never changes once listed; the playlist changes every 2 s.
        'Cache-Control': playlist ? 'no-store' : 'public, max-age=60, immutable',
      },
    });
  });
  return router;
}
