import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/index.js';
import { kvConflictCounter, type Bus } from '../bus/index.js';
import type { Logger } from '../observability/index.js';
import { DeliveryStore } from './delivery-store.js';
import type { ResolveHost } from './delivery-target.js';
import { DeliveryWorker, type DeliveryPolicy } from './delivery-worker.js';
import { OutboundAdmin } from './outbound-admin.js';
import { OutboundFanout } from './outbound-fanout.js';
import { createOutboundMetrics } from './outbound-metrics.js';
import { DEFAULT_RETRY_SCHEDULE_MS } from './retry-schedule.js';
import { SubscriberStore } from './subscriber-store.js';
import { WebhookPools } from './webhook-pools.js';

/** Outbound settings as `config.ts` reads them. */
export interface OutboundSettings {
  readonly requireHttps: boolean;
  readonly allowPrivateHosts: readonly string[];
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  /** Delays before each retry; undefined: `DEFAULT_RETRY_SCHEDULE_MS` (about three days). */
  readonly retryScheduleMs: readonly number[] | undefined;
  readonly maxInFlightPerSubscriber: number;
  readonly concurrency: number;
}

export interface OutboundWebhooksOptions {
  readonly bus: Bus;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** The app's registry: outbound metrics register on it. */
  readonly registry: Registry;
  readonly settings: OutboundSettings;
  /** Run the fan-out and the delivery worker in this process (default true). */
  readonly workers?: boolean;
  readonly resolve?: ResolveHost;
  readonly now?: () => number;
}

/** Signed outbound webhooks (Standard Webhooks): the admin side, the fan-out and the delivery worker. */
export class OutboundWebhooks {
  private constructor(
    readonly admin: OutboundAdmin,
    private readonly subscribers: SubscriberStore,
    private readonly fanout: OutboundFanout,
    private readonly worker: DeliveryWorker,
    private readonly pools: WebhookPools,
    private readonly runWorkers: boolean,
  ) {}

  static async open(options: OutboundWebhooksOptions): Promise<OutboundWebhooks> {
    const { bus, audit, logger, settings } = options;
    const conflicts = kvConflictCounter(options.registry);
    const subscribers = await SubscriberStore.open(bus, { conflicts });
    const deliveries = await DeliveryStore.open(bus, { conflicts });
    const metrics = createOutboundMetrics(options.registry);
    const allowPrivateHosts = new Set(settings.allowPrivateHosts.map((host) => host.toLowerCase().replace(/^\[|\]$/g, '')));
    const policy: DeliveryPolicy = { ...settings, retryScheduleMs: settings.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS, allowPrivateHosts };
    const pools = new WebhookPools({ connectTimeoutMs: settings.connectTimeoutMs });
    const admin = new OutboundAdmin({
      bus,
      subscribers,
      deliveries,
      audit,
      requireHttps: settings.requireHttps,
      allowPrivateHosts,
      resolve: options.resolve,
      now: options.now,
    });
    const fanout = new OutboundFanout({ bus, subscribers, metrics, logger, now: options.now });
    const worker = new DeliveryWorker({ bus, subscribers, deliveries, audit, metrics, logger, pools, policy, resolve: options.resolve, now: options.now });
    return new OutboundWebhooks(admin, subscribers, fanout, worker, pools, options.workers ?? true);
  }

  async start(): Promise<void> {
    if (!this.runWorkers) return;
    await this.fanout.start();
    await this.worker.start();
  }

  /** Stops taking events and jobs, waits for attempts in flight, closes idle connections. */
  async stop(): Promise<void> {
    await this.fanout.stop();
    await this.worker.stop();
    this.subscribers.close();
    await this.pools.destroy();
  }
}
