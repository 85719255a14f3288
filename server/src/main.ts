import { ConfigError, loadConfig } from './config.js';
import { DemoLiveStream, demoRoutes, endPreviousDemoBroadcast, linkDemoPlayback } from './demo/index.js';
import { EmbeddedNatsUnavailable, startEmbeddedNats, type EmbeddedNats } from './embedded-nats.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './observability/index.js';
import { startServer, type RunningServer } from './start-server.js';

/** Reads the environment, starts the server (with the demo site in demo mode), stops cleanly on signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`live-upload: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  // This process's own parts (the local nats-server, the demo stream, the server), stopped in reverse on a signal.
  const lifecycle = new Lifecycle({ logger: logger.child({ component: 'lifecycle' }), stopTimeoutMs: 8_000 });
  // Without NATS_URL: a local nats-server with a file store when there is one, so state survives a restart.
  let embedded: EmbeddedNats | undefined;
  let busNote = 'bus: in memory: channels, upload records, the audit trail and published media records are lost when this process stops (NATS_URL: JetStream)';
  if (config.embeddedNats.mode !== 'off') {
    const startedAt = performance.now();
    try {
      embedded = await startEmbeddedNats({ storeDir: config.embeddedNats.storeDir });
      const nats = embedded;
      await lifecycle.start({ name: 'embedded-nats', stop: () => nats.stop() });
      busNote = `bus: NATS JetStream, a local nats-server this process started (${embedded.url}, file store ${config.embeddedNats.storeDir}, ${Math.round(performance.now() - startedAt)} ms): state is kept across restarts`;
    } catch (error) {
      if (config.embeddedNats.mode === 'on' || !(error instanceof EmbeddedNatsUnavailable)) {
        process.stderr.write(`live-upload: EMBEDDED_NATS: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      }
      busNote = `bus: in memory, because ${error.message.split('\n')[0]}: channels, upload records, the audit trail and published media records are lost when this process stops (install nats-server to keep them, or set NATS_URL)`;
    }
  }
  // The demo's local live stream (demo mode, when ffmpeg runs here); started by the simulated streamer.
  const live = config.demo ? await DemoLiveStream.open({ logger: logger.child({ component: 'demo-live' }) }) : undefined;
  if (live) await lifecycle.start({ name: 'demo-live', stop: () => live.close() });
  const serverConfig = embedded ? { ...config, natsUrl: embedded.url } : config;
  let server!: RunningServer;
  await lifecycle.start({
    name: 'server',
    start: async () => {
      server = await startServer(serverConfig, { logger, extraRoutes: config.demo ? async (parts) => [await demoRoutes({ ...parts, live })] : undefined });
    },
    stop: () => server.close(),
  });
  if (live) await linkDemoPlayback({ url: server.url, publicUrl: server.config.publicUrl, adminToken: config.adminToken });
  if (config.demo && (await endPreviousDemoBroadcast({ url: server.url }))) logger.info('the demo broadcast a previous run left live was ended');

  // Handlers first: whoever reads the banner may signal at once.
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), 10_000);
    forced.unref();
    lifecycle.stop().then(
      (results) => process.exit(results.every((result) => result.outcome === 'stopped') ? 0 : 1),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  const banner = [`live-upload is running at ${server.url}`];
  if (config.demo) banner.push(`moderation page: ${server.url}/moderation (the review queue; paste the admin token)`);
  // Printed once, to the terminal of whoever started it; never logged as a field.
  if (config.generated.adminToken) banner.push(`admin token for this process: ${config.adminToken}`);
  if (server.bus.kind === 'memory' || embedded) banner.push(busNote);
  if (config.env === 'production' && server.bus.kind === 'memory') {
    // The operator opted in (ALLOW_EPHEMERAL_BUS); said loudly at every start, in the log and on the terminal.
    const warning = 'PRODUCTION ON THE IN-MEMORY BUS (ALLOW_EPHEMERAL_BUS): a restart loses channels, upload records, the audit trail and published media records; webhooks are answered 204 without a durable copy';
    logger.warn({ bus: 'memory', allow_ephemeral_bus: true }, warning);
    process.stderr.write(`live-upload: WARNING: ${warning}\n`);
    banner.unshift(`WARNING: ${warning}`);
  }
  process.stdout.write(`\n${banner.map((line) => `  ${line}\n`).join('')}\n`);
}

main().catch((error: unknown) => {
  // A setting that only the running system can refute (BUS_REPLICAS against the cluster, a storage
  // bucket that is not there) is a configuration error like one caught at load: one line, exit 78.
  if (error instanceof ConfigError) {
    process.stderr.write(`live-upload: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`live-upload failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
