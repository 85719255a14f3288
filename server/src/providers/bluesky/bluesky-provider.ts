import type { Registry } from 'prom-client';
import { BUCKETS, BusLease, type Bus, type Subscription } from '../../bus/index.js';
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
  /**
   * One process of the fleet reads Jetstream, holding this lease (renewed every third of it).
   * A dead reader is replaced within the lease plus the clock skew; the new one resumes from
   * the shared cursor, a few seconds early, so the gap costs latency, not events.
   */
  jetstreamLeaseMs: 15_000,
} as const;

/** The Jetstream reader's key in the `leases` bucket. */
export const BLUESKY_JETSTREAM_LEASE_KEY = 'bluesky-jetstream';

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
  /** The Jetstream reader lease: how long it lasts unrenewed (default 15 s). */
  readonly jetstreamLeaseMs?: number;
  /** How far apart the fleet's clocks may be (default 5 s). */
  readonly jetstreamLeaseMaxClockSkewMs?: number;
  /** How often the lease is renewed or, standing by, tried (default a third of the lease). */
  readonly jetstreamLeaseRenewEveryMs?: number;
  /** This process in the lease; default `{host}/{pid}/{ulid}`. */
  readonly jetstreamLeaseHolder?: string;
}

/**
 * The Bluesky provider assembled: the Jetstream consumer (discovery hints onto
 * `live.raw.bluesky`) and the status write-back (its own consumer of `live.status.>`).
 * Every process of a fleet may run Jetstream: they share one lease on the bus, and only its
 * holder is connected; the others stand by and take over, from the cursor in KV, when the
 * holder stops or dies.
 */
export class BlueskyProvider {
  private linksWatch: Subscription | undefined;
  /** Link refreshes run one after another, so an older read never lands after a newer one. */
  private refreshing: Promise<void> = Promise.resolve();
  private jetstreamLeaseRef: BusLease | undefined;

  private constructor(
    private readonly options: BlueskyProviderOptions,
    readonly metrics: BlueskyMetrics,
    readonly jetstream: JetstreamConsumer,
    readonly writer: StatusWriter | undefined,
  ) {}

  /** The lease whose holder reads Jetstream (`isHolder`: this process does). */
  get jetstreamLease(): BusLease {
    return this.jetstreamLeaseRef!;
  }

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
    const provider = new BlueskyProvider(options, metrics, jetstream, writer);
    provider.jetstreamLeaseRef = await BusLease.open(options.bus, {
      key: BLUESKY_JETSTREAM_LEASE_KEY,
      leaseMs: options.jetstreamLeaseMs ?? BLUESKY_DEFAULTS.jetstreamLeaseMs,
      logger: options.logger,
      onChange: (held) => (held ? provider.startJetstream() : provider.stopJetstream()),
      ...(options.jetstreamLeaseMaxClockSkewMs !== undefined ? { maxClockSkewMs: options.jetstreamLeaseMaxClockSkewMs } : {}),
      ...(options.jetstreamLeaseRenewEveryMs !== undefined ? { renewEveryMs: options.jetstreamLeaseRenewEveryMs } : {}),
      ...(options.jetstreamLeaseHolder ? { holder: options.jetstreamLeaseHolder } : {}),
    });
    return provider;
  }

  /**
   * Starts the write-back and, unless `jetstream` is false, takes part in the Jetstream lease:
   * resolves once this process knows whether it reads Jetstream (and, if so, has started to).
   */
  async start(options: { jetstream?: boolean } = {}): Promise<void> {
    await this.writer?.start();
    if (options.jetstream === false) return;
    await this.jetstreamLease.start();
  }

  /** This process took the lease: read Jetstream from the shared cursor. */
  private async startJetstream(): Promise<void> {
    // Any process may link an account: the registry's reverse index is watched, so Jetstream's
    // filter follows links made anywhere in the fleet.
    const links = await this.options.bus.kv(BUCKETS.providerLinks);
    this.linksWatch = await links.watch((event) => {
      if (event.key.startsWith('bluesky.')) void this.refreshLinks();
    });
    await this.jetstream.start();
    this.metrics.reader.set(1);
  }

  /** This process lost or gives up the lease: disconnect, the cursor saved for the next holder. */
  private async stopJetstream(): Promise<void> {
    this.linksWatch?.unsubscribe();
    this.linksWatch = undefined;
    this.metrics.reader.set(0);
    await this.refreshing;
    await this.jetstream.stop();
  }

  /** Reads the linked accounts again; Jetstream's filter follows. */
  refreshLinks(): Promise<void> {
    this.refreshing = this.refreshing
      .then(() => this.jetstream.refreshLinks())
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'bluesky links not refreshed'));
    return this.refreshing;
  }

  /** Stops reading Jetstream (saving the cursor) before the lease goes to another process, then the write-back. */
  async stop(): Promise<void> {
    await this.jetstreamLease.stop();
    await this.stopJetstream();
    await this.writer?.stop();
  }
}
