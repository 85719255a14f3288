import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseChannelRef } from '@live-upload/schema';
import { AppError } from '../errors/index.js';
import { SseConnection, SseFrameCache, SseHeartbeat, parseCursor, type LiveStatusHub, type VodProgressRelay } from '../live/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { clientNetwork } from './middleware/client-network.js';
import { asAppError, errorBody } from './middleware/error-handler.js';
import { ingressAccess } from './ingress-access.js';
import type { NodeRequestHandler } from './twitch-webhook-ingress.js';

export const LIVE_EVENTS_PATH = '/api/v1/live/events';

/** What a refused client is told to wait: a connection of its own frees when it closes one; the server's, as viewers leave. */
const CLIENT_CAP_RETRY_AFTER_S = 10;
const GLOBAL_CAP_RETRY_AFTER_S = 30;

/** The CORS answer of a public read (`middleware/cors.ts`, `@koa/cors` with `origin: '*'`), which this route is. */
const CORS_HEAD = [
  'Vary',
  'Origin',
  'Access-Control-Allow-Origin',
  '*',
  'Access-Control-Expose-Headers',
  'ETag,Retry-After,X-Request-Id,RateLimit-Limit,RateLimit-Remaining',
] as const;

export interface LiveEventsDeps {
  readonly hub: LiveStatusHub;
  /** The VOD worker's progress events; absent: the stream carries status only. */
  readonly vodProgress?: VodProgressRelay;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly maxChannels: number;
  /** The longest a stream goes without bytes (config `SSE_HEARTBEAT_MS`). */
  readonly heartbeatMs: number;
  /** Open connections of this process, all clients together; one more is a 503 (config `SSE_MAX_CONNECTIONS`). */
  readonly maxConnections: number;
  /** Open connections of one client (an IPv4 address, an IPv6 /64); one more is a 429 (config `SSE_MAX_CONNECTIONS_PER_CLIENT`). */
  readonly maxConnectionsPerClient: number;
  /** Reverse proxies in front of us whose `X-Forwarded-For` entries are trusted (config `TRUST_PROXY_HOPS`, as Koa reads it for every other route). */
  readonly trustProxyHops: number;
  /** Open connections, so shutdown can drain them. */
  readonly connections: Set<SseConnection>;
}

/** `GET` (or `HEAD`) of `/api/v1/live/events` or `/api/v1/live/events/`, any query string: what the ingress answers. */
export function isLiveEventsRequest(request: IncomingMessage): boolean {
  const url = request.url;
  if (url === undefined || !url.startsWith(LIVE_EVENTS_PATH) || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
  const rest = url.slice(LIVE_EVENTS_PATH.length);
  return rest === '' || rest === '/' || rest.startsWith('?') || rest.startsWith('/?');
}

/**
 * `GET /api/v1/live/events?channel=a/b&channel=c/d`: snapshot per channel, then changes. A
 * well-formed channel that does not exist (yet) gets an offline snapshot rather than failing
 * the connection, which a page shares between all its badges. A channel's replay transcode
 * progress follows as `vod-progress` events (`{ canonical_id, state, percent?, speed?, at }`, no
 * `id`), as the VOD worker publishes them.
 *
 * Served on node's request and response ahead of Koa (`app.ts`), as the Twitch webhook is: a
 * Koa context lives as long as its response, and an event stream's response lives as long as
 * its viewer, so each subscriber held Koa's context, its request and response wrappers and
 * on-finished's listeners for hours, about 2.5x the heap per connection of a bare SSE server,
 * which every major garbage collection walked (issue 26, `bench/fanout-fleet.ts`). What the
 * middleware chain gives every other route this gives itself, the same: `X-Request-Id` and
 * `nosniff`, the public-read CORS headers, the client address behind `TRUST_PROXY_HOPS`
 * trusted proxies, errors as `{ "error": { "code", "message" } }` with their access-log line,
 * and the request metric. A stream itself writes no access-log line (it would come hours later).
 *
 * Each connection holds a socket (a file descriptor) for as long as the viewer stays, so they
 * are capped in this process: per client, a 429 `too_many_connections`, and over all, a 503
 * `over_capacity`, both JSON with `Retry-After` and `Connection: close` (a refused client keeps
 * no idle socket either), counted in `live_upload_sse_refused_total{reason}`.
 */
export function liveEventsIngress(deps: LiveEventsDeps): NodeRequestHandler {
  const { metrics, logger } = deps;
  /** Open connections per client network; a client leaves the map with its last one. */
  const perClient = new Map<string, number>();
  const frames = new SseFrameCache();
  const heartbeat = new SseHeartbeat(deps.heartbeatMs);
  const refusedByClientCap = metrics.sseRefused.labels({ reason: 'client_cap' });
  const refusedByGlobalCap = metrics.sseRefused.labels({ reason: 'global_cap' });
  const access = ingressAccess(LIVE_EVENTS_PATH, metrics, logger);
  const clientAddress = (request: IncomingMessage): string => {
    // Koa's `ctx.ip` with `proxy` and `maxIpsCount`: the first of the last N forwarded addresses.
    const forwarded = deps.trustProxyHops > 0 ? request.headers['x-forwarded-for'] : undefined;
    const trusted = typeof forwarded === 'string' && forwarded !== '' ? forwarded.split(',').slice(-deps.trustProxyHops)[0]!.trim() : '';
    return trusted || request.socket.remoteAddress || '';
  };
  const released = (client: string) => (closed: SseConnection) => {
    deps.connections.delete(closed);
    metrics.sseClients.dec();
    const left = (perClient.get(client) ?? 1) - 1;
    if (left > 0) perClient.set(client, left);
    else perClient.delete(client);
  };

  /** The channels asked for, checked; an `AppError` for anything the stream cannot follow. */
  const channelsOf = (query: URLSearchParams): string[] => {
    const list = query.getAll('channel').filter((c) => c !== '');
    if (list.length === 0) throw new AppError('bad_request', 'name at least one channel: ?channel={publisher}/{slug}');
    const channels = [...new Set(list)];
    if (channels.length > deps.maxChannels) throw new AppError('too_many_channels', `at most ${deps.maxChannels} channels per connection`);
    const invalid = channels.find((channel) => !parseChannelRef(channel));
    if (invalid !== undefined) throw new AppError('invalid_channel', `not a channel: ${JSON.stringify(invalid.slice(0, 100))}`);
    return channels;
  };

  const refuse = (request: IncomingMessage, response: ServerResponse, requestId: string, startedAt: number, error: AppError): void => {
    request.resume();
    const body = JSON.stringify(errorBody(error));
    const head: string[] = ['X-Request-Id', requestId, 'X-Content-Type-Options', 'nosniff', ...CORS_HEAD];
    for (const name in error.headers) head.push(name, error.headers[name]!);
    head.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)));
    response.writeHead(error.status, head);
    response.end(body);
    const method = request.method ?? 'GET';
    access.count(method, error.status);
    if (error.status >= 500 && error.code !== 'internal') logger.warn({ request_id: requestId, code: error.code }, error.message);
    if (access.logging()) access.log(requestId, method, request.url!.split('?', 1)[0]!, error.status, startedAt);
  };

  const open = (request: IncomingMessage, response: ServerResponse, requestId: string): void => {
    const client = clientNetwork(clientAddress(request));
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
    const url = request.url!;
    const queryAt = url.indexOf('?');
    const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
    const channels = channelsOf(query);
    const lastEventIdHeader = request.headers['last-event-id'];
    const lastEventIdParams = query.getAll('last_event_id');
    const lastEventId = (typeof lastEventIdHeader === 'string' && lastEventIdHeader) || (lastEventIdParams.length === 1 ? lastEventIdParams[0]! : '');

    const socket = request.socket;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    response.writeHead(200, [
      'X-Request-Id',
      requestId,
      'X-Content-Type-Options',
      'nosniff',
      ...CORS_HEAD,
      'Content-Type',
      'text/event-stream; charset=utf-8',
      'Cache-Control',
      'no-cache, no-transform',
      'Connection',
      'keep-alive',
      'X-Accel-Buffering',
      'no',
    ]);
    // Node keeps the head it built, one string concatenated header by header, as long as the
    // response: a tree of some 40 pieces per stream. Written out on its own it is flattened
    // in place, and the pieces go.
    response.flushHeaders();
    access.count(request.method ?? 'GET', 200);
    const connection = new SseConnection(response, parseCursor(lastEventId), released(client), frames, heartbeat);
    deps.connections.add(connection);
    perClient.set(client, held + 1);
    metrics.sseClients.inc();
    connection.start(deps.hub, channels, deps.vodProgress).catch((error: unknown) => {
      // The snapshot could not be read (the bus is down): the viewer reconnects after `retry:`.
      logger.error({ err: error, request_id: requestId }, 'unhandled error');
      connection.close();
    });
  };

  return (request, response) => {
    const startedAt = performance.now();
    const requestId = access.requestId(request);
    try {
      open(request, response, requestId);
    } catch (error) {
      const { appError, unexpected } = asAppError(error);
      if (unexpected) logger.error({ err: error, request_id: requestId }, 'unhandled error');
      if (!response.headersSent) refuse(request, response, requestId, startedAt, appError);
    }
  };
}
