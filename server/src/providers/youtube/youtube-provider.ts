import type { Registry } from 'prom-client';
import { BusLease, type Bus, type Consumer } from '../../bus/index.js';
import type { Logger } from '../../observability/index.js';
import type { RawEventSink } from '../../provider-adapter/index.js';
import { YouTubeDataApi } from './data-api-client.js';
import { startHintConsumer } from './hint-consumer.js';
import { LiveVideoStore } from './live-video-store.js';
import { DEFAULT_YOUTUBE_POLL_INTERVAL_MS, YouTubeLivePoller, type YouTubeChannelDirectory } from './live-poller.js';
import { QuotaBudget } from './quota-budget.js';
import { VideoConfirmer } from './video-confirmer.js';
import { WebSubSubscriber } from './websub-subscriber.js';
import { WebSubSubscriptionStore } from './websub-subscription-store.js';
import { YouTubeHintQueue } from './youtube-hint.js';
import { createYouTubeMetrics, type YouTubeMetrics } from './youtube-metrics.js';

/** The poller's key in the `leases` bucket: one process of the fleet ticks. */
export const YOUTUBE_POLLER_LEASE_KEY = 'youtube-poller';

/** Production endpoints; tests and operators point these elsewhere. */
export const YOUTUBE_DEFAULTS = {
  hubUrl: 'https://pubsubhubbub.appspot.com/subscribe',
  dataApiBaseUrl: 'https://www.googleapis.com',
} as const;

export interface YouTubeProviderOptions {
  readonly bus: Bus;
  readonly ingest: RawEventSink;
  readonly directory: YouTubeChannelDirectory;
  readonly registry: Registry;
  readonly logger: Logger;
  /** The hub's subscribe endpoint. */
  readonly hubUrl?: string;
  /** Our public `/webhooks/youtube` URL (a function when it is known only after listening). */
  readonly callbackUrl: string | (() => string);
  readonly dataApiBaseUrl?: string;
  readonly apiKey: string;
  /** The Google Cloud project's whole daily quota, shared through the bus by every process (default 10 000). */
  readonly dailyQuotaUnits?: number;
  /** Units a process claims from the fleet's ledger at a time (default 20; see `QuotaBudget`). */
  readonly quotaReservationUnits?: number;
  readonly pollIntervalMs?: number;
  readonly leaseSeconds?: number;
  /**
   * The fleet-wide poller lease (KV `leases/youtube-poller`): how long it lasts unrenewed.
   * Default: the poll interval (three ticks). A dead leader is replaced within this plus the skew.
   */
  readonly pollLeaseMs?: number;
  /** How far apart the fleet's clocks may be (default 5 s). */
  readonly pollLeaseMaxClockSkewMs?: number;
  /** This process in the lease; default `{host}/{pid}/{ulid}`. */
  readonly pollLeaseHolder?: string;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

/**
 * The YouTube provider assembled: the stores the webhook route reads, the hint queue it
 * writes, the subscriber, the Data API confirmer and the polling fallback. `start()` begins
 * consuming hints and ticking (subscriptions, then polling) every poll interval; `tick()`
 * runs one round now.
 */
export class YouTubeProvider {
  private consumer: Consumer | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private polling = false;

  private constructor(
    private readonly options: YouTubeProviderOptions,
    readonly subscriptions: WebSubSubscriptionStore,
    readonly liveVideos: LiveVideoStore,
    readonly hints: YouTubeHintQueue,
    readonly quota: QuotaBudget,
    readonly metrics: YouTubeMetrics,
    readonly subscriber: WebSubSubscriber,
    readonly confirmer: VideoConfirmer,
    readonly poller: YouTubeLivePoller,
    readonly pollLease: BusLease,
  ) {}

  static async open(options: YouTubeProviderOptions): Promise<YouTubeProvider> {
    const now = options.now ?? Date.now;
    const subscriptions = await WebSubSubscriptionStore.open(options.bus);
    const liveVideos = await LiveVideoStore.open(options.bus);
    const quota = await QuotaBudget.open(
      options.bus,
      {
        logger: options.logger,
        ...(options.dailyQuotaUnits !== undefined ? { dailyLimitUnits: options.dailyQuotaUnits } : {}),
        ...(options.quotaReservationUnits !== undefined ? { reservationUnits: options.quotaReservationUnits } : {}),
      },
      now(),
    );
    const metrics = createYouTubeMetrics(options.registry, quota, now);
    const api = new YouTubeDataApi({
      baseUrl: options.dataApiBaseUrl ?? YOUTUBE_DEFAULTS.dataApiBaseUrl,
      apiKey: options.apiKey,
      quota,
      metrics,
      now,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const subscriber = new WebSubSubscriber({
      hubUrl: options.hubUrl ?? YOUTUBE_DEFAULTS.hubUrl,
      callbackUrl: options.callbackUrl,
      store: subscriptions,
      metrics,
      logger: options.logger,
      now,
      ...(options.leaseSeconds ? { leaseSeconds: options.leaseSeconds } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const confirmer = new VideoConfirmer({ api, ingest: options.ingest, liveVideos, metrics, logger: options.logger });
    const poller = new YouTubeLivePoller({
      api,
      confirmer,
      subscriptions,
      liveVideos,
      directory: options.directory,
      metrics,
      logger: options.logger,
      now,
      ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
    });
    const pollLease = await BusLease.open(options.bus, {
      key: YOUTUBE_POLLER_LEASE_KEY,
      logger: options.logger,
      leaseMs: options.pollLeaseMs ?? options.pollIntervalMs ?? DEFAULT_YOUTUBE_POLL_INTERVAL_MS,
      now,
      ...(options.pollLeaseMaxClockSkewMs !== undefined ? { maxClockSkewMs: options.pollLeaseMaxClockSkewMs } : {}),
      ...(options.pollLeaseHolder ? { holder: options.pollLeaseHolder } : {}),
    });
    return new YouTubeProvider(options, subscriptions, liveVideos, new YouTubeHintQueue(options.bus), quota, metrics, subscriber, confirmer, poller, pollLease);
  }

  /**
   * Starts consuming hints and, unless `poll` is false, the ticking (subscriptions and polling).
   * In a fleet every process may consume hints and may have `poll` on: each tick first takes or
   * renews the poller lease, and only its holder ticks, so one process spends quota on polling.
   * `poll: false` never ticks and never takes the lease.
   */
  async start(options: { poll?: boolean } = {}): Promise<void> {
    this.stopped = false;
    this.consumer = await startHintConsumer({
      bus: this.options.bus,
      confirmer: this.confirmer,
      liveVideos: this.liveVideos,
      quota: this.quota,
      logger: this.options.logger,
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    this.polling = options.poll !== false;
    if (this.polling) this.schedule(0);
  }

  /** One scheduled round: the lease taken or renewed, then a tick if we hold it. */
  private async tickIfLeader(): Promise<void> {
    const wasHolder = this.pollLease.isHolder;
    const outcome = await this.pollLease.hold().finally(() => this.metrics.poller.set(this.pollLease.isHolder ? 1 : 0));
    if (!this.pollLease.isHolder) {
      if (wasHolder) this.options.logger.info({ outcome }, 'youtube poller lease lost: another process ticks');
      return;
    }
    if (!wasHolder) this.options.logger.info({ outcome, holder: this.pollLease.holder }, 'youtube poller lease taken: this process ticks');
    await this.tick();
  }

  /** One round: subscriptions reconciled with the linked channels, then the polling fallback. */
  async tick(): Promise<void> {
    const linked = await this.options.directory.linkedYouTubeChannelIds();
    await this.subscriber.reconcile(linked);
    await this.poller.tick();
  }

  /**
   * Subscriptions reconciled now (a channel was linked or unlinked), not at the next tick; runs
   * after a tick in flight, so two reconciles never overlap.
   */
  async reconcileSubscriptions(): Promise<void> {
    const run = Promise.resolve(this.running)
      .catch(() => undefined)
      .then(async () => this.subscriber.reconcile(await this.options.directory.linkedYouTubeChannelIds()));
    this.running = run.catch(() => undefined);
    await run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.polling) {
      this.polling = false;
      this.metrics.poller.set(0);
      await this.pollLease.release().catch((error: unknown) => this.options.logger.warn({ err: error }, 'youtube poller lease not released'));
    }
    await this.consumer?.stop();
    this.consumer = undefined;
    // Units claimed and not spent go back to the fleet.
    await this.quota.release();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tickIfLeader()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'youtube tick failed'))
        .finally(() => this.schedule(this.poller.pollIntervalMs / 3));
    }, delayMs);
    this.timer.unref();
  }
}
