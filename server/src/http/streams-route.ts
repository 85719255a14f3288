import Router from '@koa/router';
import { encodeStreamCursor, pageStreams, parseStreamQuery, summarizeStream, type StreamDirectory } from '../discovery/index.js';
import type { AppState } from './app-state.js';
import { answeredNotModified, contentEtag } from './middleware/conditional-get.js';
import { rateLimitPerClient } from './middleware/rate-limit.js';

export interface StreamsRouteDeps {
  readonly streams: StreamDirectory;
  /** Where the outside world reaches this server: the landing page URLs. */
  readonly publicUrl: () => string;
  /** Per client, like the status route. */
  readonly rateLimitPerMinute: number;
}

/**
 * `GET /api/v1/streams?status=&tag=&q=&sort=&limit=&cursor=` (and HEAD): the discovery index,
 * one page of small stream summaries and the cursor of the next. Thin: parse (400 naming the
 * parameter), page the in-memory index, revalidate by ETag; cached briefly like `/status`.
 * `sort=trending` (the default) ranks live, then scheduled, then offline channels by
 * `floor(viewers x (1 + clips + watch_minutes / 60))` (issue 27; `trendingScore` in
 * `discovery/engagement.ts`): viewers the higher of the providers' count and our audience's,
 * clips and viewer-minutes of the current broadcast from the audience beacons.
 */
export function streamsRoute(deps: StreamsRouteDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/api/v1/streams', rateLimitPerClient(deps.rateLimitPerMinute, 'streams'), async (ctx) => {
    const query = parseStreamQuery(ctx.query);
    const page = pageStreams(deps.streams.sortedBy(query.sort), query);
    const publicUrl = deps.publicUrl();
    const body = JSON.stringify({
      items: page.entries.map((entry) => summarizeStream(entry, publicUrl)),
      next_cursor: page.next === undefined ? null : encodeStreamCursor(query, page.next),
    });
    const etag = contentEtag(body);
    ctx.set('Cache-Control', 'public, max-age=2, stale-while-revalidate=10');
    if (answeredNotModified(ctx, etag)) return;
    ctx.type = 'application/json';
    ctx.body = body;
  });
  return router;
}
