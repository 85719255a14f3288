import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Router from '@koa/router';
import { createApp, type App } from './app.js';
import { AuditLog } from './audit/index.js';
import { STREAMS, createMemoryBus, createNatsBus, type Bus } from './bus/index.js';
import { ChannelRegistry } from './channels/index.js';
import type { Config } from './config.js';
import type { AppState } from './http/app-state.js';
import { LiveStatusHub } from './live/index.js';
import { StreamDirectory } from './discovery/index.js';
import { createLogger, createMetrics, startMetricsServer, type Logger, type Metrics, type MetricsServer } from './observability/index.js';
import { LivePipeline, RawEventIngest } from './pipeline/index.js';
import { PROVIDER_ADAPTERS } from './providers/index.js';
import { LifecycleSweeper, PromotionWorker } from './publishing/index.js';
import { AppAccessToken, HelixClient, TwitchSubscriptionManager, handleTwitchRevocation } from './providers/twitch/index.js';
import { YouTubeProvider, providerLinksDirectory } from './providers/youtube/index.js';
import { UploadGrants, UploadStore, createTusEndpoint } from './uploads/index.js';
import { HashBlocklist, ModerationWorker, defaultModerationChecks } from './moderation/index.js';
import { OutboundWebhooks, type ResolveHost } from './outbound/index.js';
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
  /** Stops accepting, drains SSE, stops consumers, closes the bus. Idempotent. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Builds routers mounted after the API (the demo site), given the running parts. */
  readonly extraRoutes?: (parts: { config: Config; channels: ChannelRegistry; logger: Logger }) => Promise<Router<AppState>[]>;
  /** How long in-flight requests may take to finish at shutdown before their sockets are closed. */
  readonly drainTimeoutMs?: number;
  /** Run the moderation worker (default true; a test that inspects raw `uploads.completed` jobs turns it off). */
  readonly moderationWorker?: boolean;
  /** How outbound webhooks resolve receiver host names (default: the OS resolver). */
  readonly outboundResolve?: ResolveHost;
}

/** The composition root: connects the bus, starts the pipeline and the hub, listens. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = createMetrics({ defaultMetrics: true });
  const bus = config.natsUrl ? await createNatsBus({ url: config.natsUrl, name: 'live-upload', logger }) : createMemoryBus();
  await bus.ensureStreams(Object.values(STREAMS));

  const channels = await ChannelRegistry.open(bus);
  const audit = new AuditLog(bus);
  const pipeline = await LivePipeline.open({
    bus,
    channels,
    logger: logger.child({ component: 'pipeline' }),
    metrics,
    adapters: PROVIDER_ADAPTERS,
    graceWindowMs: config.offlineGraceMs,
    coalesceMs: config.coalesceMs,
  });
  const hub = new LiveStatusHub(
    bus,
    (channel) => pipeline.readRecord(channel),
    (channel) => pipeline.placeholderRecord(channel),
    logger.child({ component: 'hub' }),
  );
  hub.start();
  await pipeline.start();
  const streams = await StreamDirectory.open({ bus, hub, logger: logger.child({ component: 'discovery' }) });
  await streams.start();

  const uploadStore = await UploadStore.open(bus);
  const uploadGrants = new UploadGrants({ secret: config.uploadTokenSecret });
  const tus = await createTusEndpoint({
    quarantineDir: config.quarantineDir,
    incompleteTtlMs: config.uploadIncompleteTtlMs,
    startWindowMs: config.uploadStartWindowMs,
    grants: uploadGrants,
    uploads: uploadStore,
    bus,
    audit,
    logger: logger.child({ component: 'uploads' }),
  });
  tus.startCleanup(UPLOAD_CLEANUP_INTERVAL_MS);

  const blocklist = await HashBlocklist.open(bus);
  const moderation = new ModerationWorker({
    bus,
    uploads: uploadStore,
    audit,
    quarantineDir: config.quarantineDir,
    policy: config.moderationPolicy,
    checks: defaultModerationChecks(blocklist),
    maxInFlightPerChannel: config.moderationChannelMaxInFlight,
    logger: logger.child({ component: 'moderation' }),
  });
  if (options.moderationWorker ?? true) await moderation.start();

  const promotion = new PromotionWorker({
    bus,
    uploads: uploadStore,
    audit,
    logger: logger.child({ component: 'publishing' }),
    quarantineDir: config.quarantineDir,
    mediaDir: config.mediaDir,
    concurrency: config.transcodeConcurrency,
  });
  await promotion.start();
  const sweeper = new LifecycleSweeper({
    uploads: uploadStore,
    audit,
    logger: logger.child({ component: 'lifecycle' }),
    quarantineDir: config.quarantineDir,
    ttlMs: config.quarantineTtlMs,
    orphanTtlMs: Math.min(config.uploadIncompleteTtlMs, config.quarantineTtlMs),
    intervalMs: config.lifecycleSweepMs,
  });
  sweeper.start();

  const outbound = await OutboundWebhooks.open({
    bus,
    audit,
    logger: logger.child({ component: 'outbound' }),
    registry: metrics.registry,
    settings: config.outbound,
    resolve: options.outboundResolve,
  });
  await outbound.start();

  let publicUrl = config.publicUrl;
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
  tokenRefresher.start();

  const app = createApp({
    config,
    logger,
    metrics,
    bus,
    channels,
    hub,
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
    moderation: { audit, blocklist },
    outbound: outbound.admin,
    linker,
    extraRoutes: options.extraRoutes ? await options.extraRoutes({ config, channels, logger }) : [],
  });

  const server = createServer(app.handle);
  server.keepAliveTimeout = 65_000;
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  // PORT=0 without PUBLIC_URL: the default public URL names port 0; the port we got is the real one.
  if (publicUrl.endsWith(':0')) publicUrl = url;
  const metricsServer: MetricsServer | undefined =
    config.metrics.port === undefined
      ? undefined
      : await startMetricsServer({ host: config.metrics.host, port: config.metrics.port, registry: metrics.registry, ...(config.metrics.token ? { token: config.metrics.token } : {}) });
  logger.info({ url, bus: bus.kind, demo: config.demo, metrics: metricsServer?.url ?? config.metrics.mainPort }, 'listening');
  if (config.metrics.mainPort === 'off' && metricsServer === undefined) {
    logger.warn('/metrics is off: in production set METRICS_TOKEN (a bearer for /metrics) or METRICS_PORT (a listener of its own)');
  }

  if (config.twitchHelix) {
    const helix = config.twitchHelix;
    twitchSubscriptions = new TwitchSubscriptionManager({
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
      logger: logger.child({ component: 'twitch-subscriptions' }),
    });
    twitchSubscriptions.start();
  }
  if (youtube && config.youtube) await youtube.start({ poll: config.youtube.poll });
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
  await bluesky.start({ jetstream: config.bluesky.jetstreamUrl !== undefined });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      app.startDraining();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of [...app.sseConnections]) connection.close();
      // Keep-alive sockets close as soon as they are idle; in-flight requests get a bounded drain.
      const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const drainDeadline = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs ?? 5_000);
      await stopped;
      await metricsServer?.close();
      clearInterval(idleSweep);
      clearTimeout(drainDeadline);
      tus.stop();
      await moderation.stop();
      await sweeper.stop();
      await promotion.stop();
      await outbound.stop();
      await twitchSubscriptions?.stop();
      await youtube?.stop();
      await bluesky.stop();
      await tokenRefresher.stop();
      streams.stop();
      hub.stop();
      await pipeline.stop();
      await bus.close();
      logger.info('stopped');
    })());

  return { url, port, config: { ...config, publicUrl }, bus, app, channels, logger, metrics, metricsUrl: metricsServer?.url, close };
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
