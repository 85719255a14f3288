import Router from '@koa/router';
import { parseChannelRef } from '@live-upload/schema';
import { AppError } from '../errors/index.js';
import { SseConnection, SseFrameCache, parseCursor, type LiveStatusHub, type VodProgressRelay } from '../live/index.js';
import type { Metrics } from '../observability/index.js';
import type { AppState } from './app-state.js';
import { clientNetwork } from './middleware/client-network.js';

/** What a refused client is told to wait: a connection of its own frees when it closes one; the server's, as viewers leave. */
const CLIENT_CAP_RETRY_AFTER_S = 10;
const GLOBAL_CAP_RETRY_AFTER_S = 30;

export interface LiveEventsDeps {
  readonly hub: LiveStatusHub;
  /** The VOD worker's progress events; absent: the stream carries status only. */
  readonly vodProgress?: VodProgressRelay;
  readonly metrics: Metrics;
  readonly maxChannels: number;
  readonly heartbeatMs: number;
  /** Open connections of this process, all clients together; one more is a 503 (config `SSE_MAX_CONNECTIONS`). */
  readonly maxConnections: number;
  /** Open connections of one client (an IPv4 address, an IPv6 /64); one more is a 429 (config `SSE_MAX_CONNECTIONS_PER_CLIENT`). */
  readonly maxConnectionsPerClient: number;
  /** Open connections, so shutdown can drain them. */
  readonly connections: Set<SseConnection>;
}

/**
 * `GET /api/v1/live/events?channel=a/b&channel=c/d`: snapshot per channel, then changes. A
 * well-formed channel that does not exist (yet) gets an offline snapshot rather than failing
 * the connection, which a page shares between all its badges. A channel's replay transcode
 * progress follows as `vod-progress` events (`{ canonical_id, state, percent?, speed?, at }`, no
 * `id`), as the VOD worker publishes them.
 *
 * Each connection holds a socket (a file descriptor) for as long as the viewer stays, so they
 * are capped in this process: per client, a 429 `too_many_connections`, and over all, a 503
 * `over_capacity`, both JSON with `Retry-After` and `Connection: close` (a refused client keeps
 * no idle socket either), counted in `live_upload_sse_refused_total{reason}`.
 */
export function liveEventsRoute(deps: LiveEventsDeps): Router<AppState> {
  const router = new Router<AppState>();
  /** Open connections per client network; a client leaves the map with its last one. */
  const perClient = new Map<string, number>();
  const frames = new SseFrameCache();
  const refusedByClientCap = deps.metrics.sseRefused.labels({ reason: 'client_cap' });
  const refusedByGlobalCap = deps.metrics.sseRefused.labels({ reason: 'global_cap' });

  router.get('/api/v1/live/events', async (ctx) => {
    const client = clientNetwork(ctx.ip);
    const held = perClient.get(client) ?? 0;
    if (held >= deps.maxConnectionsPerClient) {
      refusedByClientCap.inc();
      throw new AppError('too_many_connections', `this client has ${deps.maxConnectionsPerClient} live-event connections open, the most it may; close one (one connection carries up to ${deps.maxChannels} channels) or retry in ${CLIENT_CAP_RETRY_AFTER_S} s`, {
        headers: { 'Retry-After': String(CLIENT_CAP_RETRY_AFTER_S), Connection: 'close' },
      });
    }
    if (deps.connections.size >= deps.maxConnections) {
      refusedByGlobalCap.inc();
      throw new AppError('over_capacity', `the server holds its most live-event connections (${deps.maxConnections}); retry in ${GLOBAL_CAP_RETRY_AFTER_S} s`, {
        headers: { 'Retry-After': String(GLOBAL_CAP_RETRY_AFTER_S), Connection: 'close' },
      });
    }
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
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
    }, frames);
    deps.connections.add(connection);
    perClient.set(client, (perClient.get(client) ?? 0) + 1);
    deps.metrics.sseClients.inc();
    await connection.start(deps.hub, channels, deps.heartbeatMs, deps.vodProgress);
  });

  return router;
}
