import Koa from 'koa';
import Router from '@koa/router';
import type { Bus } from './bus/index.js';
import type { ChannelRegistry } from './channels/index.js';
import type { Config } from './config.js';
import type { AppState } from './http/app-state.js';
import { channelRoutes } from './http/channel-routes.js';
import { liveEventsRoute } from './http/live-events-route.js';
import { isLiveEventsRequest, liveEventsIngress } from './http/live-events-ingress.js';
import { publicReadCors } from './http/middleware/cors.js';
import { errorHandler, methodRefusalsAsErrors } from './http/middleware/error-handler.js';
import { lateErrorLog } from './http/middleware/late-error-log.js';
import { requestContext } from './http/middleware/request-context.js';
import { RequestBodyDeadline } from './http/middleware/request-body-deadline.js';
import { requireBearer } from './http/middleware/require-bearer.js';
import { operationsRoutes } from './http/operations-routes.js';
import { isTwitchWebhookPath, twitchWebhookIngress, type NodeRequestHandler } from './http/twitch-webhook-ingress.js';
import { elementAssetsRoute } from './http/element-assets-route.js';
import { mediaRoute } from './http/media-route.js';
import { originMediaRoute } from './http/origin-media-route.js';
import { vodReplayRoute, type VodStore } from './vod-jobs/index.js';
import { tusUploadMount, uploadRoutes } from './http/upload-routes.js';
import { moderationRoutes } from './http/moderation-routes.js';
import { audioReferenceRoutes } from './http/audio-reference-routes.js';
import { moderationRulesRoutes } from './http/moderation-rules-routes.js';
import { outboundRoutes } from './http/outbound-routes.js';
import { vodRoutes } from './http/vod-routes.js';
import type { SourcePolicy } from './vod-ingest/index.js';
import { linkingRoutes } from './http/linking-routes.js';
import { landingPageRoute } from './http/landing-page-route.js';
import { audiencePageRoute } from './http/audience-page-route.js';
import { oEmbedRoute } from './http/oembed-route.js';
import { streamsRoute } from './http/streams-route.js';
import type { StreamDirectory } from './discovery/index.js';
import type { AccountLinker } from './linking/index.js';
import type { OutboundAdmin } from './outbound/index.js';
import type { Federation } from './federation/index.js';
import { federationRoutes } from './http/federation-routes.js';
import { youTubeWebhookRoute } from './http/youtube-webhook-route.js';
import type { WebSubSubscriptionStore, YouTubeHintQueue, YouTubeMetrics } from './providers/youtube/index.js';
import type { AuditLog } from './audit/index.js';
import type { AudioReferences, HashBlocklist, ModerationRulesStore } from './moderation/index.js';
import type { LiveStatusHub, SseConnection, VodProgressRelay } from './live/index.js';
import type { Logger, Metrics } from './observability/index.js';
import type { RawEventIngest } from './pipeline/index.js';
import type { EventSubSubscription } from './providers/twitch/index.js';
import type { ObjectStore } from './storage/index.js';
import { PublisherGrants } from './publishers/index.js';
import { publisherGrantRoutes } from './http/publisher-grant-routes.js';
import { whipRoutes, type WhipRouteDeps } from './http/whip-routes.js';
import { audienceRoutes } from './http/audience-routes.js';
import type { AudienceStore, BeaconIntake } from './audience/index.js';
import type { WhipOrigin } from './origin/index.js';
import { createClientActor, type QuarantinedUploads, type TusEndpoint, type UploadGrants, type UploadStore } from './uploads/index.js';

/** Everything the HTTP app needs, built and connected by `main.ts` (or a test). */
export interface AppDeps {
  readonly config: Pick<
    Config,
    | 'twitchEventSubSecret'
    | 'adminToken'
    | 'statusRateLimitPerMinute'
    | 'beaconRateLimitPerMinute'
    | 'sseMaxChannels'
    | 'sseHeartbeatMs'
    | 'sseMaxConnections'
    | 'requestBodyTimeoutMs'
    | 'metrics'
    | 'requestBodyMinBytesPerSecond'
    | 'sseMaxConnectionsPerClient'
    | 'uploadMaxBytes'
    | 'uploadAllowedTypes'
    | 'uploadRateLimitPerMinute'
    | 'uploadChannelMaxPending'
    | 'uploadClientMaxPending'
    | 'uploadStartWindowMs'
    | 'uploadIncompleteTtlMs'
    | 'uploadTokenSecret'
    | 'vodUploadMaxBytes'
    | 'moderatorTokens'
    | 'quarantineDir'
    | 'origin'
  > &
    Partial<Pick<Config, 'trustProxyHops'>>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly bus: Bus;
  readonly channels: ChannelRegistry;
  readonly hub: LiveStatusHub;
  /** Replay transcode progress for the live-events stream (issue 21); absent: status only. */
  readonly vodProgress?: VodProgressRelay;
  /** The discovery index behind `GET /api/v1/streams`. */
  readonly streams: StreamDirectory;
  readonly ingest: RawEventIngest;
  readonly onChannelChanged: (channel: string) => Promise<void>;
  readonly onTwitchRevocation: (subscription: EventSubSubscription, messageId: string) => Promise<unknown>;
  /** Viewer uploads: grants, records, and the tus endpoint over the quarantine. */
  /** Where the outside world reaches this server (known only after listening when the port is 0). */
  readonly publicUrl: () => string;
  readonly uploads: { readonly grants: UploadGrants; readonly store: UploadStore; readonly tus: TusEndpoint };
  /** Published media (`{upload_id}/...`) that `/media` serves: a directory, or the fleet's media bucket. */
  readonly media: ObjectStore;
  /** Replay records (issue 21); absent: no `/vod` route and no `/api/v1/channels/.../vods` routes. */
  readonly vods?: VodStore;
  /** Who a VOD playlist handed in may be fetched from (the outbound SSRF policy); default: public hosts only. */
  readonly vodSources?: SourcePolicy;
  /** Moderation: the audit log (decisions, blocklist changes) and the perceptual-hash blocklist. */
  readonly moderation: {
    readonly audit: AuditLog;
    readonly blocklist: HashBlocklist;
    readonly quarantine: QuarantinedUploads;
    /** The versioned moderation rules (issue 22); absent: no `/api/v1/moderation/rules` routes. */
    readonly rules?: ModerationRulesStore;
    /** The audio references the fingerprint check matches (issue 22); absent: no `/api/v1/moderation/audio-references` routes. */
    readonly audioReferences?: AudioReferences;
  };
  /** Outbound webhooks' admin side (subscribers, deliveries, dead letters, replay); absent: no `/api/v1/webhooks` routes. */
  readonly outbound?: OutboundAdmin;
  /** ActivityPub (issue 27): WebFinger, channel actors, their inboxes, admin blocks; absent: none of those routes. */
  readonly federation?: Federation;
  /** YouTube WebSub (when configured): our subscriptions, the hint queue, its metrics. Absent: no `/webhooks/youtube`. */
  readonly youtube?: { readonly subscriptions: WebSubSubscriptionStore; readonly hints: YouTubeHintQueue; readonly metrics: YouTubeMetrics };
  /** Account linking (OAuth, app passwords, unlink); absent: no link routes. */
  readonly linker?: AccountLinker;
  /** Extra routers mounted last (the demo site in demo mode). */
  readonly extraRoutes?: readonly Router<AppState>[];
  /** Our origin's WHIP sessions (issue 23) and the limits of its endpoint; absent: no WHIP routes. */
  readonly origin?: { readonly whip: WhipOrigin; readonly limits: WhipRouteDeps['limits'] };
  /** Audience beacons in, a broadcast's audience report out (issue 27); absent: no beacon or audience routes. */
  readonly audience?: { readonly intake: BeaconIntake; readonly store: AudienceStore };
  readonly now?: () => number;
}

export interface App {
  readonly koa: Koa<AppState>;
  /** Node's request handler: the request body deadline, then the live-events streams, or Koa for every other route. */
  readonly handle: NodeRequestHandler;
  /** Open SSE connections; `main.ts` drains them on shutdown. */
  readonly sseConnections: Set<SseConnection>;
  /** After this, `/readyz` answers 503 so load balancers stop sending traffic. */
  startDraining(): void;
}

/** Builds the Koa app from injected parts. Does no I/O. */
export function createApp(deps: AppDeps): App {
  const now = deps.now ?? Date.now;
  // Behind N trusted proxies, the client is the Nth address from the end of X-Forwarded-For
  // (Koa reads only the last `maxIpsCount`); with none, it is the socket's address.
  const proxyHops = deps.config.trustProxyHops ?? 0;
  const koa = new Koa<AppState>(proxyHops > 0 ? { proxy: true, maxIpsCount: proxyHops } : { proxy: false });
  koa.on('error', lateErrorLog(deps.logger));
  const sseConnections = new Set<SseConnection>();
  let draining = false;
  const requireAdmin = requireBearer(() => [deps.config.adminToken]);
  const clientActor = createClientActor(deps.config.uploadTokenSecret);
  // Publisher grants are signed with a key derived from the upload secret (their own audience and label).
  const publisherGrants = new PublisherGrants({ secret: deps.config.uploadTokenSecret, now });

  // `POST /webhooks/twitch` first, on node's request and response, in `handle` below ahead of Koa
  // itself: it is the one route a provider calls in bursts, and the middleware chain below
  // (context, error handler, CORS, tus, media, the router's match) cost measurably more CPU per
  // webhook than the route itself (bench/ingest); Koa's context alone was about an eighth of the
  // bytes the server allocated per webhook (issue 26). Here too, for Koa's handler alone. The ingress gives
  // itself what that chain gives every other route: X-Request-Id, the access-log line, the request
  // metrics, `{ "error": { "code", "message" } }` errors and 405 with Allow. Nothing else belongs here.
  const twitchWebhook = twitchWebhookIngress({
    secret: deps.config.twitchEventSubSecret,
    ingest: deps.ingest,
    metrics: deps.metrics,
    logger: deps.logger,
    now,
    onRevocation: deps.onTwitchRevocation,
  });
  koa.use((ctx, next) => {
    if (!isTwitchWebhookPath(ctx.url)) return next();
    ctx.respond = false;
    twitchWebhook(ctx.req, ctx.res);
    return Promise.resolve();
  });
  // `GET /api/v1/live/events` on node's request too, and in `handle` below ahead of Koa itself:
  // a Koa context lives as long as its response, and an event stream's response as long as its
  // viewer (issue 26: the context was most of a subscriber's heap). Here for Koa's handler alone.
  const liveEvents = liveEventsIngress({
    hub: deps.hub,
    ...(deps.vodProgress ? { vodProgress: deps.vodProgress } : {}),
    metrics: deps.metrics,
    logger: deps.logger,
    maxChannels: deps.config.sseMaxChannels,
    heartbeatMs: deps.config.sseHeartbeatMs,
    maxConnections: deps.config.sseMaxConnections,
    maxConnectionsPerClient: deps.config.sseMaxConnectionsPerClient,
    trustProxyHops: proxyHops,
    connections: sseConnections,
  });
  koa.use((ctx, next) => {
    if (!isLiveEventsRequest(ctx.req)) return next();
    ctx.respond = false;
    liveEvents(ctx.req, ctx.res);
    return Promise.resolve();
  });
  koa.use(requestContext(deps.logger, deps.metrics));
  koa.use(errorHandler());
  koa.use(publicReadCors());
  koa.use(tusUploadMount(deps.uploads.tus, clientActor));
  koa.use(mediaRoute({ uploads: deps.uploads.store, media: deps.media }));
  // Our origin's live ladders (issue 23), from the media store: every replica serves every session.
  koa.use(originMediaRoute({ media: deps.media }));
  if (deps.vods) koa.use(vodReplayRoute({ vods: deps.vods, media: deps.media }));

  const routers: Router<AppState>[] = [
    operationsRoutes({
      bus: deps.bus,
      metrics: deps.metrics,
      isDraining: () => draining,
      metricsAccess: deps.config.metrics.mainPort === 'token' && deps.config.metrics.token ? { mode: 'token', token: deps.config.metrics.token } : { mode: deps.config.metrics.mainPort === 'open' ? 'open' : 'off' },
    }),
    elementAssetsRoute(),
    channelRoutes({
      channels: deps.channels,
      hub: deps.hub,
      requireAdmin,
      statusRateLimitPerMinute: deps.config.statusRateLimitPerMinute,
      onChannelChanged: deps.onChannelChanged,
      publicUrl: deps.publicUrl,
      originLimitCeiling: { maxBitrateKbps: deps.config.origin.maxBitrateKbps, maxShortSidePx: deps.config.origin.maxShortSidePx },
      ...(deps.vods ? { vods: deps.vods } : {}),
    }),
    landingPageRoute({ channels: deps.channels, hub: deps.hub, publicUrl: deps.publicUrl, ...(deps.vods ? { vods: deps.vods } : {}) }),
    // The publisher's audience page (issue 27): its data comes from the audience routes, with the publisher's token.
    ...(deps.audience ? [audiencePageRoute()] : []),
    oEmbedRoute({ channels: deps.channels, hub: deps.hub, publicUrl: deps.publicUrl }),
    streamsRoute({ streams: deps.streams, publicUrl: deps.publicUrl, rateLimitPerMinute: deps.config.statusRateLimitPerMinute }),
    liveEventsRoute(liveEvents),
    uploadRoutes({
      channels: deps.channels,
      uploads: deps.uploads.store,
      grants: deps.uploads.grants,
      limits: {
        maxBytes: deps.config.uploadMaxBytes,
        allowedTypes: deps.config.uploadAllowedTypes,
        maxPendingPerChannel: deps.config.uploadChannelMaxPending,
        maxPendingPerClient: deps.config.uploadClientMaxPending,
        startWindowMs: deps.config.uploadStartWindowMs,
        incompleteTtlMs: deps.config.uploadIncompleteTtlMs,
      },
      audit: deps.moderation.audit,
      clientActor,
      rateLimitPerMinute: deps.config.uploadRateLimitPerMinute,
      statusRateLimitPerMinute: deps.config.statusRateLimitPerMinute,
      publicUrl: deps.publicUrl,
      moderatorTokens: () => [deps.config.adminToken, ...deps.config.moderatorTokens],
      replays: { publisherGrants, adminToken: () => deps.config.adminToken, limits: { maxBytes: deps.config.vodUploadMaxBytes } },
      now,
    }),
    publisherGrantRoutes({ channels: deps.channels, grants: publisherGrants, requireAdmin, audit: deps.moderation.audit }),
    ...(deps.audience
      ? [
          audienceRoutes({
            intake: deps.audience.intake,
            store: deps.audience.store,
            grants: publisherGrants,
            adminToken: () => deps.config.adminToken,
            publicUrl: deps.publicUrl,
            beaconsPerMinute: deps.config.beaconRateLimitPerMinute,
            now,
          }),
        ]
      : []),
    ...(deps.origin
      ? [whipRoutes({ origin: deps.origin.whip, channels: deps.channels, grants: publisherGrants, adminToken: () => deps.config.adminToken, limits: deps.origin.limits })]
      : []),
    // Before the moderation routes: `/moderation/rules` is not an upload id's `/moderation/:upload_id`.
    ...(deps.moderation.rules
      ? [
          moderationRulesRoutes({
            rules: deps.moderation.rules,
            audit: deps.moderation.audit,
            tokens: { admin: () => deps.config.adminToken, moderators: () => deps.config.moderatorTokens },
            now,
          }),
        ]
      : []),
    ...(deps.moderation.audioReferences
      ? [
          audioReferenceRoutes({
            references: deps.moderation.audioReferences,
            audit: deps.moderation.audit,
            tokens: { admin: () => deps.config.adminToken, moderators: () => deps.config.moderatorTokens },
          }),
        ]
      : []),
    moderationRoutes({
      bus: deps.bus,
      uploads: deps.uploads.store,
      audit: deps.moderation.audit,
      blocklist: deps.moderation.blocklist,
      quarantine: deps.moderation.quarantine,
      tokens: { admin: () => deps.config.adminToken, moderators: () => deps.config.moderatorTokens },
      publicUrl: deps.publicUrl,
      now,
    }),
    ...(deps.outbound ? [outboundRoutes({ admin: deps.outbound, requireAdmin })] : []),
    ...(deps.federation ? [federationRoutes({ federation: deps.federation, requireAdmin })] : []),
    ...(deps.vods
      ? [
          vodRoutes({
            bus: deps.bus,
            channels: deps.channels,
            vods: deps.vods,
            requireAdmin,
            adminToken: () => deps.config.adminToken,
            sources: deps.vodSources ?? { allowPrivateHosts: new Set() },
            rateLimitPerMinute: deps.config.statusRateLimitPerMinute,
            audit: deps.moderation.audit,
            now,
          }),
        ]
      : []),
    ...(deps.linker ? [linkingRoutes({ linker: deps.linker, requireAdmin, onChannelChanged: deps.onChannelChanged })] : []),
    ...(deps.youtube
      ? [
          youTubeWebhookRoute({
            subscriptions: deps.youtube.subscriptions,
            hints: deps.youtube.hints,
            metrics: deps.metrics,
            youTubeMetrics: deps.youtube.metrics,
            now,
          }),
        ]
      : []),
    ...(deps.extraRoutes ?? []),
  ];
  // One root router: a request is matched against every route in a single pass, and 405/501
  // answers come from one allowedMethods, instead of one dispatch per feature router.
  const root = new Router<AppState>();
  for (const router of routers) root.use(router.routes());
  koa.use(methodRefusalsAsErrors());
  koa.use(root.routes());
  koa.use(root.allowedMethods());

  const koaHandler = koa.callback();
  const bodyDeadline = new RequestBodyDeadline({ timeoutMs: deps.config.requestBodyTimeoutMs, minBytesPerSecond: deps.config.requestBodyMinBytesPerSecond });

  return {
    koa,
    handle: (request, response) => {
      bodyDeadline.watch(request, response);
      if (isTwitchWebhookPath(request.url)) twitchWebhook(request, response);
      else if (isLiveEventsRequest(request)) liveEvents(request, response);
      else koaHandler(request, response);
    },
    sseConnections,
    startDraining: () => {
      draining = true;
    },
  };
}
