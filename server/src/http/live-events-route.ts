import Router from '@koa/router';
import { parseChannelRef } from '@live-upload/schema';
import { AppError } from '../errors/index.js';
import { SseConnection, parseCursor, type LiveStatusHub } from '../live/index.js';
import type { Metrics } from '../observability/index.js';
import type { AppState } from './app-state.js';

export interface LiveEventsDeps {
  readonly hub: LiveStatusHub;
  readonly metrics: Metrics;
  readonly maxChannels: number;
  readonly heartbeatMs: number;
  /** Open connections, so shutdown can drain them. */
  readonly connections: Set<SseConnection>;
}

/**
 * `GET /api/v1/live/events?channel=a/b&channel=c/d`: snapshot per channel, then changes. A
 * well-formed channel that does not exist (yet) gets an offline snapshot rather than failing
 * the connection, which a page shares between all its badges.
 */
export function liveEventsRoute(deps: LiveEventsDeps): Router<AppState> {
  const router = new Router<AppState>();

  router.get('/api/v1/live/events', async (ctx) => {
    const requested = ctx.query.channel;
    const list = (Array.isArray(requested) ? requested : requested === undefined ? [] : [requested]).filter((c) => c !== '');
    if (list.length === 0) throw new AppError('bad_request', 'name at least one channel: ?channel={publisher}/{slug}');
    const channels = [...new Set(list)];
    if (channels.length > deps.maxChannels) {
      throw new AppError('too_many_channels', `at most ${deps.maxChannels} channels per connection`);
    }
    const invalid = channels.find((channel) => !parseChannelRef(channel));
    if (invalid !== undefined) throw new AppError('invalid_channel', `not a channel: ${JSON.stringify(invalid.slice(0, 100))}`);

    const lastEventId = ctx.get('last-event-id') || (typeof ctx.query.last_event_id === 'string' ? ctx.query.last_event_id : '');
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setKeepAlive(true);
    ctx.state.quiet = true;
    ctx.respond = false;
    ctx.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Request-Id': ctx.state.requestId,
    });
    const connection = new SseConnection(ctx.res, parseCursor(lastEventId), (closed) => {
      deps.connections.delete(closed);
      deps.metrics.sseClients.dec();
    });
    deps.connections.add(connection);
    deps.metrics.sseClients.inc();
    await connection.start(deps.hub, channels, deps.heartbeatMs);
  });

  return router;
}
