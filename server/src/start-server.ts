import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type Router from '@koa/router';
import { parseChannelRef } from '@live-upload/schema';
import { createApp, type App } from './app.js';
import { Lifecycle } from './lifecycle.js';
import { AuditLog } from './audit/index.js';
import { BusLease, BusReplicasError, STREAMS, createMemoryBus, createNatsBus, kvConflictCounter, type Bus } from './bus/index.js';
import { ChannelRegistry, DEFAULT_VOD_POLICY } from './channels/index.js';
import { ConfigError, type Config } from './config.js';
import type { AppState } from './http/app-state.js';
import { LiveStatusHub, VodProgressRelay } from './live/index.js';
import { StreamDirectory } from './discovery/index.js';
import { createLogger, createMetrics, startMetricsServer, type Logger, type Metrics, type MetricsServer } from './observability/index.js';
import { LivePipeline, RawEventIngest } from './pipeline/index.js';
import { providerEventAdapters } from './providers/index.js';
import { LifecycleSweeper, PromotionWorker, STAGING_DIR_NAME, applyQuarantineBucketLifecycle } from './publishing/index.js';
import { AppAccessToken, HelixClient, TWITCH_SUBSCRIPTIONS_LEASE_KEY, TwitchSubscriptionManager, handleTwitchRevocation } from './providers/twitch/index.js';
import { YouTubeProvider, providerLinksDirectory } from './providers/youtube/index.js';
import { BusUploadLocker, QuarantinedUploads, UploadGrants, UploadStore, createTusEndpoint, uploadLockEvents } from './uploads/index.js';
import { openStorage, s3ClientConfigFor, type ObjectStore } from './storage/index.js';
import { VodSlots, VodStore, VodWorker, enqueueVodJob } from './vod-jobs/index.js';
import { DEFAULT_MEDIA_LIMITS } from './media/index.js';
import { AudioReferences, HashBlocklist, ModerationRulesStore, ModerationWorker, builtInModerationRules, defaultModerationChecks } from './moderation/index.js';
import { OutboundWebhooks, type ResolveHost } from './outbound/index.js';
import { Federation } from './federation/index.js';
import { TwitchArchiveLookup, VodCapture, recordVodCaptureMetrics } from './vod-capture/index.js';
import { AudienceAggregator, AudienceStore, BeaconIntake, audienceEngagement } from './audience/index.js';
import type { SourcePolicy } from './vod-ingest/index.js';
import {
  AccountLinker,
  BlueskyAppPasswords,
  GoogleOAuth,
  LinkedAccountStore,
  OAuthStateStore,
  TokenRefresher,
  TokenVault,
  TwitchOAuth,
  blueskyCredentialsLookup,
  type OAuthClient,
  type OAuthProviderId,
} from './linking/index.js';
import { BlueskyProvider } from './providers/bluesky/index.js';
import { productOriginCollaborators } from './origin/origin-signals-wiring.js';
import { DEFAULT_LIVE_LADDER_OPTIONS, GoLiveGrantLedger, OriginSessions, WhipOrigin, recordOriginMetrics, type OriginCollaborators } from './origin/index.js';

/** How often expired incomplete uploads are swept from the quarantine. */
const UPLOAD_CLEANUP_INTERVAL_MS = 5 * 60 * 1000;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  readonly bus: Bus;
  readonly app: App;
  readonly channels: ChannelRegistry;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where `/metrics` is served on its own port (`METRICS_PORT`); undefined without one. */
  readonly metricsUrl: string | undefined;
  /**
   * Stops every service in reverse start order: `/readyz` fails, the providers stop, HTTP
   * stops accepting and drains (SSE closed), the workers and consumers stop, the bus closes.
   * Idempotent. Rejects (after stopping all the others) when a service failed to stop in time.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Builds routers mounted after the API (the demo site), given the running parts. */
  readonly extraRoutes?: (parts: { config: Config; channels: ChannelRegistry; logger: Logger }) => Promise<Router<AppState>[]>;
  /** How long in-flight requests may take to finish at shutdown before their sockets are closed. */
  readonly drainTimeoutMs?: number;
  /** How outbound webhooks resolve receiver host names (default: the OS resolver). */
  readonly outboundResolve?: ResolveHost;
  /**
   * Our origin's collaborators (issue 23): where a WHIP session's ladder is stored and how its
   * start and end reach the pipeline. Default: the product's (`productOriginCollaborators`: the
   * ladder mirrored into the media store, raw events `provider: 'origin'` into the pipeline).
   * With `WORKERS` including `origin`, this process takes WHIP offers.
   */
  readonly origin?: (parts: { config: Config; bus: Bus; media: ObjectStore; ingest: RawEventIngest; logger: Logger }) => OriginCollaborators;
}

/**
 * The composition root: builds every part and starts each running service through one
 * `Lifecycle`, in dependency order (the bus first, HTTP and the providers last), so that
 * `close()` stops them in reverse. A start that fails stops what already started.
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const lifecycle = new Lifecycle({ logger: logger.child({ component: 'lifecycle' }) });
  try {
    return await compose(config, options, logger, lifecycle);
  } catch (error) {
    await lifecycle.stop();
    throw error;
  }
}

async function compose(config: Config, options: StartOptions, logger: Logger, lifecycle: Lifecycle): Promise<RunningServer> {
  const metrics = createMetrics({ defaultMetrics: true });
  const bus = config.natsUrl ? await openNatsBus(config.natsUrl, config.busReplicas, logger) : createMemoryBus();
  await lifecycle.start({ name: 'bus', stop: () => bus.close() });
  await bus.ensureStreams(Object.values(STREAMS));
  // The quarantine and the published media: two directories, or the two buckets a fleet shares
  // (both checked now, so a missing bucket or bad credentials fail the start, naming the bucket).
  // Transcodes and S3 downloads in progress: local scratch under MEDIA_DIR (the data volume, not a small /tmp; never served).
  const stagingDir = join(config.mediaDir, STAGING_DIR_NAME);
  const storage = await openStorage(config.storage, { scratchDir: stagingDir });
  await lifecycle.start({ name: 'storage', stop: () => storage.close() });
  logger.info({ quarantine: storage.quarantine.location, media: storage.media.location }, 'storage opened');

  // Every store's lost compare-and-sets in one metric, live_upload_kv_conflicts_total{bucket}.
  const kvConflicts = kvConflictCounter(metrics.registry);
  const channels = await ChannelRegistry.open(bus, Date.now, { conflicts: kvConflicts });
  const audit = new AuditLog(bus);
  // Our public base URL; a server listening on port 0 learns its own after `listen` (below).
  let publicUrl = config.publicUrl;
  const pipeline = await LivePipeline.open({
    bus,
    channels,
    logger: logger.child({ component: 'pipeline' }),
    metrics,
    conflicts: kvConflicts,
    adapters: providerEventAdapters(() => publicUrl),
    graceWindowMs: config.offlineGraceMs,
    coalesceMs: config.coalesceMs,
  });
  const hub = new LiveStatusHub(
    bus,
    (channel) => pipeline.readRecord(channel),
    (channel) => pipeline.placeholderRecord(channel),
    logger.child({ component: 'hub' }),
  );
  await lifecycle.start({ name: 'live-status-hub', start: () => hub.start(), stop: () => hub.stop() });
  // The VOD worker's progress (whichever process runs it), relayed to the channel's live events.
  const vodProgress = new VodProgressRelay(bus, logger.child({ component: 'vod-progress' }));
  await lifecycle.start({ name: 'vod-progress-relay', start: () => vodProgress.start(), stop: () => vodProgress.stop() });
  await lifecycle.start({ name: 'pipeline', start: () => pipeline.start(), stop: () => pipeline.stop() });
  // Audience numbers (issue 27): what trending ranks by, and what the audience worker writes.
  const audienceStore = await AudienceStore.open(bus, { conflicts: kvConflicts });
  const streams = await StreamDirectory.open({ bus, hub, logger: logger.child({ component: 'discovery' }), engagement: audienceEngagement(audienceStore) });
  await lifecycle.start({ name: 'discovery', start: () => streams.start(), stop: () => streams.stop() });

  const uploadStore = await UploadStore.open(bus, Date.now, { conflicts: kvConflicts });
  const uploadGrants = new UploadGrants({ secret: config.uploadTokenSecret });
  // The quarantine every part reads and deletes through: uploads waiting for moderation, never served.
  const quarantine = new QuarantinedUploads(storage.quarantine);
  const storageConfig = config.storage;
  if (storageConfig.kind === 's3') {
    await applyQuarantineBucketLifecycle({
      s3ClientConfig: s3ClientConfigFor(storageConfig),
      bucket: storageConfig.quarantineBucket,
      ttlMs: config.quarantineTtlMs,
      incompleteTtlMs: config.uploadIncompleteTtlMs,
      logger: logger.child({ component: 'lifecycle' }),
    });
  }
  // The tus lock on the bus: the requests of one upload exclude each other on every replica.
  const uploadLocker = await BusUploadLocker.open(bus, { logger: logger.child({ component: 'upload-locks' }), events: uploadLockEvents(metrics.registry) });
  await lifecycle.start({ name: 'upload-locker', stop: () => uploadLocker.close() });
  const tus = await createTusEndpoint({
    // tus writes the quarantine itself: FileStore in the directory, S3Store (multipart) in the bucket.
    quarantine:
      storageConfig.kind === 'filesystem'
        ? { kind: 'filesystem', directory: storageConfig.quarantineDir }
        : { kind: 's3', bucket: storageConfig.quarantineBucket, s3ClientConfig: s3ClientConfigFor(storageConfig) },
    locker: uploadLocker,
    incompleteTtlMs: config.uploadIncompleteTtlMs,
    startWindowMs: config.uploadStartWindowMs,
    grants: uploadGrants,
    uploads: uploadStore,
    bus,
    audit,
    logger: logger.child({ component: 'uploads' }),
  });
  await lifecycle.start({ name: 'tus', start: () => tus.startCleanup(UPLOAD_CLEANUP_INTERVAL_MS), stop: () => tus.stop() });

  const blocklist = await HashBlocklist.open(bus);
  // Fingerprints of audio rights holders added (issue 22): on the bus, so every replica's check matches every reference.
  const audioReferences = await AudioReferences.open(bus);
  // Versioned on the bus and read per job: an admin's change applies to the next job on every replica (issue 22).
  const moderationRules = await ModerationRulesStore.open(bus, builtInModerationRules(config.moderationPolicy));
  const moderation = new ModerationWorker({
    bus,
    uploads: uploadStore,
    audit,
    quarantine,
    rules: moderationRules,
    // Viewers' uploads are clips (UPLOAD_MAX_DURATION_S); a publisher's recording has its own length (VOD_UPLOAD_MAX_DURATION_S).
    checks: defaultModerationChecks(
      blocklist,
      {
        limits: { ...DEFAULT_MEDIA_LIMITS, maxDurationS: config.uploadMaxDurationS },
        replayLimits: { ...DEFAULT_MEDIA_LIMITS, maxDurationS: config.vodUploadMaxDurationS },
      },
      { audio: audioReferences },
      // The flagged frames (nudity, faces) are kept beside the upload in the quarantine, for moderators only.
      { evidence: storage.quarantine },
    ),
    maxInFlightPerChannel: config.moderationChannelMaxInFlight,
    logger: logger.child({ component: 'moderation' }),
  });
  if (config.workers.has('moderation')) await lifecycle.start({ name: 'moderation', start: () => moderation.start(), stop: () => moderation.stop() });

  // Replay records (issue 21): a publisher's broadcast upload is promoted into a replay job, which the VOD worker makes.
  const vods = await VodStore.open(bus, { conflicts: kvConflicts });
  const promotion = new PromotionWorker({
    bus,
    uploads: uploadStore,
    audit,
    logger: logger.child({ component: 'publishing' }),
    quarantine,
    media: storage.media,
    stagingDir,
    concurrency: config.transcodeConcurrency,
    replays: {
      enqueue: ({ upload_id, ...job }) => enqueueVodJob(bus, { ...job, source: { kind: 'upload', upload_id } }, { vods }),
      cancel: async (canonicalId) => {
        await vods.cancel(canonicalId);
      },
    },
  });
  if (config.workers.has('transcode')) await lifecycle.start({ name: 'promotion', start: () => promotion.start(), stop: () => promotion.stop() });

  // Replay sources (live HLS, VOD playlists) are fetched under the outbound webhooks' SSRF rules (OUTBOUND_ALLOW_PRIVATE_HOSTS).
  // The demo streams from this server itself (its public URL, a loopback host when run locally): that host is allowed in demo mode.
  const vodAllowedHosts = [...config.outbound.allowPrivateHosts, ...(config.demo ? [new URL(config.publicUrl).hostname] : [])];
  const vodSources: SourcePolicy = { allowPrivateHosts: new Set(vodAllowedHosts.map((host) => host.toLowerCase().replace(/^\[|\]$/g, ''))), ...(options.outboundResolve ? { resolve: options.outboundResolve } : {}) };
  // Replays (issue 21): finished broadcasts' archives become ladders under vods/ in the media store.
  const vodWorker = new VodWorker({
    bus,
    vods,
    slots: await VodSlots.open(bus),
    media: storage.media,
    stagingDir,
    logger: logger.child({ component: 'vod' }),
    concurrency: config.vodConcurrency,
    perPublisherLimit: config.vodPerPublisherLimit,
    sourcePolicy: vodSources,
    uploads: { quarantine, audit },
  });
  if (config.workers.has('vod')) await lifecycle.start({ name: 'vod', start: () => vodWorker.start(), stop: () => vodWorker.stop() });
  const sweeper = new LifecycleSweeper({
    uploads: uploadStore,
    audit,
    logger: logger.child({ component: 'lifecycle' }),
    quarantine,
    ttlMs: config.quarantineTtlMs,
    orphanTtlMs: Math.min(config.uploadIncompleteTtlMs, config.quarantineTtlMs),
    intervalMs: config.lifecycleSweepMs,
  });
  await lifecycle.start({ name: 'lifecycle-sweeper', start: () => sweeper.start(), stop: () => sweeper.stop() });

  const outbound = await OutboundWebhooks.open({
    bus,
    audit,
    logger: logger.child({ component: 'outbound' }),
    registry: metrics.registry,
    settings: config.outbound,
    resolve: options.outboundResolve,
  });
  await lifecycle.start({ name: 'outbound', start: () => outbound.start(), stop: () => outbound.stop() });

  // ActivityPub (issue 27): channels as actors; deliveries under the outbound webhooks' SSRF rules and retry schedule.
  const federation = await Federation.open({
    bus,
    logger: logger.child({ component: 'federation' }),
    registry: metrics.registry,
    audit,
    settings: { requireHttps: config.outbound.requireHttps, allowPrivateHosts: config.outbound.allowPrivateHosts, timeoutMs: config.outbound.timeoutMs, retryScheduleMs: config.outbound.retryScheduleMs },
    publicUrl: () => publicUrl,
    channelExists: async (ref) => (await channels.get(ref)) !== undefined,
    ...(options.outboundResolve ? { resolve: options.outboundResolve } : {}),
  });
  await lifecycle.start({ name: 'federation', start: () => federation.start(), stop: () => federation.stop() });

  // Live broadcasts archived for their replays: one replica follows each (a lease per broadcast).
  const vodCapture = await VodCapture.open({
    bus,
    channels,
    media: storage.media,
    source: vodSources,
    conflicts: kvConflicts,
    logger: logger.child({ component: 'vod-capture' }),
  });
  recordVodCaptureMetrics(vodCapture, metrics.registry);
  if (config.workers.has('vod-capture')) await lifecycle.start({ name: 'vod-capture', start: () => vodCapture.start(), stop: () => vodCapture.stop() });
  // A broadcast's Twitch archive linked to its replay record at its OFFLINE (Helix Get Videos: needs the app credentials).
  if (config.twitchHelix && config.workers.has('vod-capture')) {
    const helix = config.twitchHelix;
    const twitchArchives = await TwitchArchiveLookup.open({
      bus,
      helix: new HelixClient({
        apiBaseUrl: helix.apiBaseUrl,
        token: new AppAccessToken({ authBaseUrl: helix.authBaseUrl, clientId: helix.clientId, clientSecret: helix.clientSecret }),
      }),
      keepsReplays: async (channel) => {
        const ref = parseChannelRef(channel);
        const channelConfig = ref ? await channels.get(ref) : undefined;
        return (channelConfig?.vod ?? DEFAULT_VOD_POLICY) !== 'off';
      },
      conflicts: kvConflicts,
      logger: logger.child({ component: 'twitch-archive-lookup' }),
    });
    await lifecycle.start({ name: 'twitch-archive-lookup', start: () => twitchArchives.start(), stop: () => twitchArchives.stop() });
  }

  // Audience analytics (issue 27): beacons onto a work queue, folded per broadcast minute by whichever replicas run `audience`.
  const audienceAggregator = new AudienceAggregator({ bus, store: audienceStore, logger: logger.child({ component: 'audience' }) });
  if (config.workers.has('audience')) await lifecycle.start({ name: 'audience', start: () => audienceAggregator.start(), stop: () => audienceAggregator.stop() });

  const ingest = new RawEventIngest(bus, metrics);
  const youtube = config.youtube
    ? await YouTubeProvider.open({
        bus,
        ingest,
        directory: await providerLinksDirectory(bus),
        registry: metrics.registry,
        logger: logger.child({ component: 'youtube' }),
        hubUrl: config.youtube.hubUrl,
        callbackUrl: () => `${publicUrl}/webhooks/youtube`,
        dataApiBaseUrl: config.youtube.dataApiBaseUrl,
        apiKey: config.youtube.apiKey,
        dailyQuotaUnits: config.youtube.dailyQuotaUnits,
        pollIntervalMs: config.youtube.pollIntervalMs,
        leaseSeconds: config.youtube.leaseSeconds,
      })
    : undefined;
  // Built after listening (its callback is the public URL); revocations arrive through the app before that only in theory.
  let twitchSubscriptions: TwitchSubscriptionManager | undefined;

  // Account linking: sealed tokens (re-sealed at start when the key ring rotated), OAuth clients, refresh.
  if (config.generated.tokenEncryptionKeys && config.natsUrl) {
    logger.warn('TOKEN_ENCRYPTION_KEYS is not set: linked accounts sealed by this process cannot be opened after a restart');
  }
  const linkedAccounts = await LinkedAccountStore.open(bus, new TokenVault(config.linking.keys));
  await linkedAccounts.rotate();
  const oauth: Partial<Record<OAuthProviderId, OAuthClient>> = {
    ...(config.twitchHelix && {
      twitch: new TwitchOAuth({ authBaseUrl: config.twitchHelix.authBaseUrl, clientId: config.twitchHelix.clientId, clientSecret: config.twitchHelix.clientSecret }),
    }),
    ...(config.linking.google && { youtube: new GoogleOAuth(config.linking.google) }),
  };
  const linker = new AccountLinker({
    channels,
    store: linkedAccounts,
    states: await OAuthStateStore.open(bus),
    oauth,
    bluesky: new BlueskyAppPasswords(config.bluesky.serviceUrl),
    audit,
    publicUrl: () => publicUrl,
    returnToOrigins: config.linking.returnToOrigins,
    log: logger.child({ component: 'linking' }),
  });
  const tokenRefresher = new TokenRefresher({ store: linkedAccounts, oauth, audit, log: logger.child({ component: 'token-refresher' }) });
  await lifecycle.start({ name: 'token-refresher', start: () => tokenRefresher.start(), stop: () => tokenRefresher.stop() });

  // Our origin (issue 23): WHIP sessions terminated here, their ladders mirrored to the media store (or the sink the caller plugs in).
  let whipOrigin: WhipOrigin | undefined;
  if (config.workers.has('origin')) {
    const plugOrigin = options.origin ?? productOriginCollaborators;
    const collaborators = plugOrigin({ config, bus, media: storage.media, ingest, logger: logger.child({ component: 'origin' }) });
    const origin = await WhipOrigin.start({
      bus,
      sessions: await OriginSessions.open(bus),
      grants: await GoLiveGrantLedger.open(bus),
      sinkFor: collaborators.sinkFor,
      signals: collaborators.signals,
      limits: {
        mediaTimeoutMs: config.origin.mediaTimeoutMs,
        maxBitrateKbps: config.origin.maxBitrateKbps,
        maxShortSidePx: config.origin.maxShortSidePx,
        ladder: { ...DEFAULT_LIVE_LADDER_OPTIONS, rungs: config.origin.ladderRungs, preset: config.origin.ladderPreset },
      },
      workRoot: join(stagingDir, 'origin'),
      heartbeatMs: config.origin.heartbeatMs,
      staleAfterMs: config.origin.staleAfterMs,
      logger: logger.child({ component: 'origin' }),
    });
    whipOrigin = origin;
    recordOriginMetrics(origin, metrics.registry);
    await lifecycle.start({ name: 'origin', stop: () => origin.stop() });
  }

  const app = createApp({
    config,
    logger,
    metrics,
    bus,
    channels,
    hub,
    vodProgress,
    streams,
    ingest,
    onChannelChanged: async (channel) => {
      await pipeline.refreshChannel(channel);
      await streams.refreshChannel(channel);
      // A link added or removed: subscribe or unsubscribe now rather than at the next periodic run.
      twitchSubscriptions?.reconcile().catch((error: unknown) => logger.warn({ err: error }, 'twitch subscription reconcile failed'));
      youtube?.reconcileSubscriptions().catch((error: unknown) => logger.warn({ err: error }, 'youtube subscription reconcile failed'));
    },
    onTwitchRevocation: async (subscription, messageId) => {
      const channel = await handleTwitchRevocation({ channels, audit }, subscription, messageId);
      twitchSubscriptions?.handleRevocation(subscription);
      return channel;
    },
    youtube: youtube && { subscriptions: youtube.subscriptions, hints: youtube.hints, metrics: youtube.metrics },
    publicUrl: () => publicUrl,
    uploads: { grants: uploadGrants, store: uploadStore, tus },
    media: storage.media,
    vods,
    vodSources,
    moderation: { audit, blocklist, quarantine, rules: moderationRules, audioReferences },
    outbound: outbound.admin,
    federation,
    linker,
    extraRoutes: options.extraRoutes ? await options.extraRoutes({ config, channels, logger }) : [],
    audience: { intake: new BeaconIntake(bus, channels), store: audienceStore },
    ...(whipOrigin
      ? { origin: { whip: whipOrigin, limits: { maxOfferBytes: config.origin.whipMaxOfferBytes, offersPerMinute: config.origin.whipOffersPerMinute, maxSessions: config.origin.maxSessions } } }
      : {}),
  });

  // Before HTTP, so that /metrics on its own port still answers while HTTP drains.
  let metricsServer: MetricsServer | undefined;
  if (config.metrics.port !== undefined) {
    const { host, port: metricsPort, token } = config.metrics;
    await lifecycle.start({
      name: 'metrics-server',
      start: async () => {
        metricsServer = await startMetricsServer({ host, port: metricsPort, registry: metrics.registry, ...(token ? { token } : {}) });
      },
      stop: () => metricsServer?.close(),
    });
  }

  const server = createServer(app.handle);
  server.keepAliveTimeout = 65_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 5_000;
  await lifecycle.start({
    name: 'http',
    start: () => listen(server, config.port, config.host),
    stop: () => drainHttp(server, app, drainTimeoutMs),
    // The drain closes the sockets left at its own deadline; this one only catches a close that never ends.
    stopTimeoutMs: drainTimeoutMs + 2_000,
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  // PORT=0 without PUBLIC_URL: the default public URL names port 0; the port we got is the real one.
  if (publicUrl.endsWith(':0')) publicUrl = url;
  logger.info({ url, bus: bus.kind, demo: config.demo, metrics: metricsServer?.url ?? config.metrics.mainPort }, 'listening');
  if (config.metrics.mainPort === 'off' && metricsServer === undefined) {
    logger.warn('/metrics is off: in production set METRICS_TOKEN (a bearer for /metrics) or METRICS_PORT (a listener of its own)');
  }

  // The providers start after listening: their callbacks name the public URL, known only now when the port is 0.
  // So they stop before the HTTP drain; `readiness` below (stopped first of all) fails /readyz before either.
  if (config.twitchHelix) {
    const helix = config.twitchHelix;
    const manager = new TwitchSubscriptionManager({
      helix: new HelixClient({
        apiBaseUrl: helix.apiBaseUrl,
        token: new AppAccessToken({ authBaseUrl: helix.authBaseUrl, clientId: helix.clientId, clientSecret: helix.clientSecret }),
      }),
      links: async () =>
        (await channels.listTwitchLinks()).map((link) => ({
          broadcasterUserId: link.user_id,
          state: link.state,
          ...(link.revoked_reason ? { revokedReason: link.revoked_reason } : {}),
        })),
      callbackUrl: `${publicUrl}/webhooks/twitch`,
      secret: config.twitchEventSubSecret,
      intervalMs: helix.reconcileMs,
      // Twice the interval: the holder renews at every round, long before it runs out; a dead
      // holder's rounds pass to another replica within two intervals.
      lease: await BusLease.open(bus, { key: TWITCH_SUBSCRIPTIONS_LEASE_KEY, leaseMs: 2 * helix.reconcileMs, logger: logger.child({ component: 'twitch-subscriptions' }) }),
      logger: logger.child({ component: 'twitch-subscriptions' }),
    });
    twitchSubscriptions = manager;
    await lifecycle.start({ name: 'twitch-subscriptions', start: () => manager.start(), stop: () => manager.stop() });
  }
  if (youtube && config.youtube) {
    const { poll } = config.youtube;
    await lifecycle.start({ name: 'youtube', start: () => youtube.start({ poll }), stop: () => youtube.stop() });
  }
  const bluesky = await BlueskyProvider.open({
    bus,
    ingest,
    registry: metrics.registry,
    logger: logger.child({ component: 'bluesky' }),
    publicUrl,
    ...(config.bluesky.jetstreamUrl ? { jetstreamUrl: config.bluesky.jetstreamUrl } : {}),
    ...(config.bluesky.statusDurationMinutes ? { statusDurationMinutes: config.bluesky.statusDurationMinutes } : {}),
    credentials: blueskyCredentialsLookup(linkedAccounts, config.bluesky.serviceUrl, logger.child({ component: 'bluesky' })),
  });
  await lifecycle.start({ name: 'bluesky', start: () => bluesky.start({ jetstream: config.bluesky.jetstreamUrl !== undefined }), stop: () => bluesky.stop() });
  // Last to start, first to stop: load balancers see /readyz fail before anything else goes away.
  await lifecycle.start({ name: 'readiness', stop: () => app.startDraining() });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= lifecycle.stop().then((results) => {
      const failed = results.filter((result) => result.outcome !== 'stopped');
      if (failed.length > 0) throw new AggregateError(failed.map((result) => result.error), `did not stop cleanly: ${failed.map((result) => result.name).join(', ')}`);
      logger.info('stopped');
    }));

  return { url, port, config: { ...config, publicUrl }, bus, app, channels, logger, metrics, metricsUrl: metricsServer?.url, close };
}

/** `/readyz` fails, the listener closes, SSE streams end (clients reconnect after their `retry:`), idle keep-alive sockets close, and in-flight requests get `drainTimeoutMs`. */
async function drainHttp(server: Server, app: App, drainTimeoutMs: number): Promise<void> {
  app.startDraining();
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const connection of [...app.sseConnections]) connection.close();
  // Keep-alive sockets close as soon as they are idle; in-flight requests get a bounded drain.
  const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  const drainDeadline = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
  try {
    await stopped;
  } finally {
    clearInterval(idleSweep);
    clearTimeout(drainDeadline);
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The NATS bus with the configured replica count; a count the cluster cannot keep is a configuration error. */
async function openNatsBus(url: string, replicas: number, logger: Logger): Promise<Bus> {
  try {
    return await createNatsBus({ url, name: 'live-upload', logger, replicas });
  } catch (error) {
    if (error instanceof BusReplicasError) {
      throw new ConfigError(
        'BUS_REPLICAS',
        `is ${replicas} but ${error.reason}; set BUS_REPLICAS to at most the number of JetStream servers in the NATS cluster (1 for a single server)`,
      );
    }
    throw error;
  }
}
