import type { Registry } from 'prom-client';
import { BUCKETS, type Bus, type Subscription } from '../../bus/index.js';
import type { Logger } from '../../observability/index.js';
import type { RawEventSink } from '../../provider-adapter/index.js';
import type { BlueskyCredentialsLookup } from './bluesky-credentials.js';
import { blueskyLinksDirectory, type BlueskyDidDirectory } from './bluesky-links-directory.js';
import { createBlueskyMetrics, type BlueskyMetrics } from './bluesky-metrics.js';
import { JetstreamConsumer } from './jetstream-consumer.js';
import { JetstreamCursorStore } from './jetstream-cursor-store.js';
import { StatusWriter } from './status-writer.js';

/** Production endpoints; tests and operators point these elsewhere. */
export const BLUESKY_DEFAULTS = {
  jetstreamUrl: 'wss://jetstream2.us-east.bsky.network',
} as const;

export interface BlueskyProviderOptions {
  readonly bus: Bus;
  readonly ingest: RawEventSink;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Our public base URL (landing pages `{publicUrl}/c/{publisher}/{slug}`). */
  readonly publicUrl: string;
  readonly jetstreamUrl?: string;
  /** Credentials of linked accounts for the write-back; without it nothing is written. */
  readonly credentials?: BlueskyCredentialsLookup;
  /** Defaults to the channel registry's provider links. */
  readonly directory?: BlueskyDidDirectory;
  readonly statusDurationMinutes?: number;
  readonly now?: () => number;
}

/**
 * The Bluesky provider assembled: the Jetstream consumer (discovery hints onto
 * `live.raw.bluesky`) and the status write-back (its own consumer of `live.status.>`).
 */
export class BlueskyProvider {
  private linksWatch: Subscription | undefined;
  /** Link refreshes run one after another, so an older read never lands after a newer one. */
  private refreshing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: BlueskyProviderOptions,
    readonly metrics: BlueskyMetrics,
    readonly jetstream: JetstreamConsumer,
    readonly writer: StatusWriter | undefined,
  ) {}

  static async open(options: BlueskyProviderOptions): Promise<BlueskyProvider> {
    const metrics = createBlueskyMetrics(options.registry);
    const jetstream = new JetstreamConsumer({
      jetstreamUrl: options.jetstreamUrl ?? BLUESKY_DEFAULTS.jetstreamUrl,
      ingest: options.ingest,
      directory: options.directory ?? (await blueskyLinksDirectory(options.bus)),
      cursors: await JetstreamCursorStore.open(options.bus),
      metrics,
      logger: options.logger,
      publicUrl: options.publicUrl,
      ...(options.now ? { now: options.now } : {}),
    });
    const writer = options.credentials
      ? await StatusWriter.open({
          bus: options.bus,
          credentials: options.credentials,
          metrics,
          logger: options.logger,
          publicUrl: options.publicUrl,
          ...(options.statusDurationMinutes ? { durationMinutes: options.statusDurationMinutes } : {}),
          ...(options.now ? { now: options.now } : {}),
        })
      : undefined;
    return new BlueskyProvider(options, metrics, jetstream, writer);
  }

  /** Starts the Jetstream consumer and the write-back. In a fleet, one process should read Jetstream. */
  async start(options: { jetstream?: boolean } = {}): Promise<void> {
    await this.writer?.start();
    if (options.jetstream === false) return;
    // Any process may link an account: the registry's reverse index is watched, so Jetstream's
    // filter follows links made anywhere in the fleet.
    const links = await this.options.bus.kv(BUCKETS.providerLinks);
    this.linksWatch = await links.watch((event) => {
      if (event.key.startsWith('bluesky.')) void this.refreshLinks();
    });
    await this.jetstream.start();
  }

  /** Reads the linked accounts again; Jetstream's filter follows. */
  refreshLinks(): Promise<void> {
    this.refreshing = this.refreshing
      .then(() => this.jetstream.refreshLinks())
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'bluesky links not refreshed'));
    return this.refreshing;
  }

  async stop(): Promise<void> {
    this.linksWatch?.unsubscribe();
    this.linksWatch = undefined;
    await this.refreshing;
    await this.jetstream.stop();
    await this.writer?.stop();
  }
}
