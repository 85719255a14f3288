import type { Logger } from '../../observability/index.js';
import type { EventSubSubscription } from './eventsub-message.js';
import { TWITCH_SUBSCRIPTION_TYPES } from './eventsub-message.js';
import { HELIX_ERROR_KINDS, HelixError, type CreateSubscriptionResult, type CreateSubscriptionInput } from './helix-client.js';

/**
 * Keeps Twitch's EventSub subscriptions equal to what our linked channels need: for every
 * linked broadcaster `stream.online` v1, `stream.offline` v1 and `channel.update` v2 on our
 * webhook callback. `planSubscriptions` decides (pure); `TwitchSubscriptionManager` lists,
 * deletes and creates through Helix, at start, periodically and after a revocation.
 */

/** What we subscribe to for each linked broadcaster. */
export const WANTED_SUBSCRIPTION_TYPES = [
  TWITCH_SUBSCRIPTION_TYPES.streamOnline,
  TWITCH_SUBSCRIPTION_TYPES.streamOffline,
  TWITCH_SUBSCRIPTION_TYPES.channelUpdate,
] as const;

/** `subscription.status` values Twitch documents that matter here. */
export const SUBSCRIPTION_STATUSES = {
  enabled: 'enabled',
  verificationPending: 'webhook_callback_verification_pending',
  verificationFailed: 'webhook_callback_verification_failed',
  notificationFailuresExceeded: 'notification_failures_exceeded',
  authorizationRevoked: 'authorization_revoked',
  userRemoved: 'user_removed',
  versionRemoved: 'version_removed',
} as const;

/** The broadcaster withdrew consent or is gone: never re-subscribe on our own. */
const REVOKED_STATUSES: ReadonlySet<string> = new Set([SUBSCRIPTION_STATUSES.authorizationRevoked, SUBSCRIPTION_STATUSES.userRemoved]);
/** Twitch gave up on delivery or retired the version: subscribe again. */
const RESUBSCRIBE_STATUSES: ReadonlySet<string> = new Set([SUBSCRIPTION_STATUSES.notificationFailuresExceeded, SUBSCRIPTION_STATUSES.versionRemoved]);
/** Working or about to work: keep. */
const HEALTHY_STATUSES: ReadonlySet<string> = new Set([SUBSCRIPTION_STATUSES.enabled, SUBSCRIPTION_STATUSES.verificationPending]);

export interface WantedSubscription {
  readonly type: string;
  readonly version: string;
  readonly broadcasterUserId: string;
  readonly callback: string;
}

export const DELETE_REASONS = {
  unwanted: 'unwanted',
  wrongCallback: 'wrong_callback',
  failed: 'failed',
  revoked: 'revoked',
  duplicate: 'duplicate',
} as const;

export type DeleteReason = (typeof DELETE_REASONS)[keyof typeof DELETE_REASONS];

export interface PlannedDeletion {
  readonly subscription: EventSubSubscription;
  readonly reason: DeleteReason;
}

export interface SubscriptionPlan {
  /** Wanted subscriptions that exist and are healthy. */
  readonly keep: readonly EventSubSubscription[];
  readonly create: readonly WantedSubscription[];
  readonly delete: readonly PlannedDeletion[];
}

export interface PlanOptions {
  /** Our callback now: `{PUBLIC_URL}/webhooks/twitch`. */
  readonly callback: string;
  /** Callbacks we used before (an old PUBLIC_URL): ours, so their subscriptions are deleted. */
  readonly formerCallbacks?: readonly string[];
}

/** The subscriptions `broadcasterUserIds` need on `callback`. */
export function wantedSubscriptions(broadcasterUserIds: Iterable<string>, callback: string): WantedSubscription[] {
  const wanted: WantedSubscription[] = [];
  for (const broadcasterUserId of new Set(broadcasterUserIds)) {
    for (const { type, version } of WANTED_SUBSCRIPTION_TYPES) wanted.push({ type, version, broadcasterUserId, callback });
  }
  return wanted;
}

function keyOf(type: string, version: string, broadcasterUserId: unknown): string {
  return JSON.stringify([type, version, broadcasterUserId]);
}

/**
 * What to create and delete so that `existing` becomes `wanted`. Ours are subscriptions on our
 * callback (or a former one); others' webhooks and non-webhook transports are left alone. Ours
 * are deleted when unwanted, on a former callback, duplicated, failed (then re-created) or
 * revoked by the broadcaster (then not re-created). Pure.
 */
export function planSubscriptions(wanted: readonly WantedSubscription[], existing: readonly EventSubSubscription[], options: PlanOptions): SubscriptionPlan {
  const wantedKeys = new Set(wanted.map((entry) => keyOf(entry.type, entry.version, entry.broadcasterUserId)));
  const former = new Set((options.formerCallbacks ?? []).filter((callback) => callback !== options.callback));
  const kept = new Set<string>();
  const keep: EventSubSubscription[] = [];
  const revokedBroadcasters = new Set<unknown>();
  const deletions: PlannedDeletion[] = [];

  for (const subscription of existing) {
    if (subscription.transport.method !== 'webhook' || subscription.transport.callback === undefined) continue;
    const callback = subscription.transport.callback;
    if (former.has(callback)) {
      deletions.push({ subscription, reason: DELETE_REASONS.wrongCallback });
      continue;
    }
    if (callback !== options.callback) continue;
    const broadcaster = subscription.condition['broadcaster_user_id'];
    const key = keyOf(subscription.type, subscription.version, broadcaster);
    if (REVOKED_STATUSES.has(subscription.status)) {
      revokedBroadcasters.add(broadcaster);
      deletions.push({ subscription, reason: DELETE_REASONS.revoked });
    } else if (!wantedKeys.has(key)) {
      deletions.push({ subscription, reason: DELETE_REASONS.unwanted });
    } else if (!HEALTHY_STATUSES.has(subscription.status)) {
      deletions.push({ subscription, reason: DELETE_REASONS.failed });
    } else if (kept.has(key)) {
      deletions.push({ subscription, reason: DELETE_REASONS.duplicate });
    } else {
      kept.add(key);
      keep.push(subscription);
    }
  }

  const seen = new Set<string>();
  const creations = wanted.filter((entry) => {
    const key = keyOf(entry.type, entry.version, entry.broadcasterUserId);
    if (kept.has(key) || seen.has(key) || revokedBroadcasters.has(entry.broadcasterUserId) || entry.callback !== options.callback) return false;
    seen.add(key);
    return true;
  });
  return { keep, create: creations, delete: deletions };
}

/** A channel's Twitch link as the channel registry holds it. */
export interface TwitchBroadcasterLink {
  readonly broadcasterUserId: string;
  readonly state: 'active' | 'revoked';
  /** The `subscription.status` Twitch revoked with, when revoked. */
  readonly revokedReason?: string;
}

/** The part of `HelixClient` the manager uses. */
export interface SubscriptionApi {
  createSubscription(input: CreateSubscriptionInput): Promise<CreateSubscriptionResult>;
  listSubscriptions(): Promise<EventSubSubscription[]>;
  deleteSubscription(id: string): Promise<void>;
}

export interface SubscriptionManagerOptions {
  readonly helix: SubscriptionApi;
  /** Every channel's Twitch link (the channel registry). */
  readonly links: () => Promise<readonly TwitchBroadcasterLink[]>;
  /** `{PUBLIC_URL}/webhooks/twitch`. */
  readonly callbackUrl: string;
  readonly formerCallbackUrls?: readonly string[];
  /** `TWITCH_EVENTSUB_SECRET`: the HMAC key Twitch signs deliveries with. */
  readonly secret: string;
  /** Between periodic reconciles (default 10 min). */
  readonly intervalMs?: number;
  /**
   * Who of a fleet runs the periodic reconcile (a `BusLease` on `twitch-subscriptions`): a
   * round asks `hold()` first and reconciles only while `isHolder`, so N replicas do not list
   * and re-create subscriptions N times every interval. Reconciles asked for (a link changed, a
   * revocation) run where they are asked. Absent: this process reconciles on its own.
   */
  readonly lease?: PeriodicLease;
  readonly logger: Logger;
}

/** The part of `BusLease` the periodic reconcile uses. */
export interface PeriodicLease {
  hold(): Promise<unknown>;
  readonly isHolder: boolean;
  release(): Promise<void>;
}

export interface ReconcileFailure {
  readonly action: 'create' | 'delete';
  readonly type: string;
  readonly broadcasterUserId: string;
  readonly message: string;
}

export interface ReconcileReport {
  readonly created: readonly EventSubSubscription[];
  readonly deleted: readonly { readonly id: string; readonly type: string; readonly broadcasterUserId: string; readonly reason: DeleteReason }[];
  /** Wanted subscriptions that already existed and are healthy. */
  readonly unchanged: number;
  readonly failures: readonly ReconcileFailure[];
}

/** What the revocation handler should record. */
export type RevocationOutcome =
  /** `authorization_revoked` / `user_removed`: the link is revoked; we do not re-subscribe. */
  | { readonly action: 'revoked'; readonly broadcasterUserId: string; readonly reason: string }
  /** `notification_failures_exceeded` / `version_removed`: a reconcile re-subscribes now. */
  | { readonly action: 'resubscribe'; readonly broadcasterUserId: string; readonly reason: string }
  | { readonly action: 'ignored'; readonly reason: string };

export const DEFAULT_RECONCILE_INTERVAL_MS = 10 * 60 * 1000;

/** The periodic reconcile's key in the `leases` bucket: one replica of a fleet runs it. */
export const TWITCH_SUBSCRIPTIONS_LEASE_KEY = 'twitch-subscriptions';

export class TwitchSubscriptionManager {
  private current: Promise<ReconcileReport> | undefined;
  private next: Promise<ReconcileReport> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The periodic round in flight (lease, then reconcile). */
  private round: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  /** Revoked by Twitch but perhaps not yet marked in the registry: not re-subscribed meanwhile. */
  private readonly revokedBroadcasters = new Set<string>();

  constructor(private readonly options: SubscriptionManagerOptions) {}

  /** Reconciles now, then every `intervalMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.tick();
  }

  /** No more runs; waits for the one in flight, then gives the lease back so another replica takes the periodic runs at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([this.current, this.next, this.round].filter((run) => run !== undefined));
    await this.options.lease?.release().catch((error: unknown) => this.options.logger.warn({ err: error }, 'twitch subscriptions lease not released'));
  }

  /**
   * One reconcile. Runs never overlap: a call during a run gets the one run queued behind it
   * (calls during a run share it).
   */
  reconcile(): Promise<ReconcileReport> {
    if (!this.current) return this.begin();
    this.next ??= this.current
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.begin();
      });
    return this.next;
  }

  /** Called with the subscription of a verified `revocation` message. */
  handleRevocation(subscription: EventSubSubscription): RevocationOutcome {
    const broadcaster = subscription.condition['broadcaster_user_id'];
    const reason = subscription.status;
    if (typeof broadcaster !== 'string') return { action: 'ignored', reason };
    if (REVOKED_STATUSES.has(reason)) {
      this.revokedBroadcasters.add(broadcaster);
      this.options.logger.info({ broadcaster, reason, subscription_type: subscription.type }, 'twitch subscription revoked; not re-subscribing');
      return { action: 'revoked', broadcasterUserId: broadcaster, reason };
    }
    if (RESUBSCRIBE_STATUSES.has(reason)) {
      if (!this.stopped) {
        this.reconcile().catch((error: unknown) => this.options.logger.warn({ err: error }, 'twitch re-subscribe after revocation failed'));
      }
      return { action: 'resubscribe', broadcasterUserId: broadcaster, reason };
    }
    return { action: 'ignored', reason };
  }

  /** One periodic round: the lease (when there is one) taken or renewed, then a reconcile if this process holds it. */
  private tick(): void {
    this.round = this.periodicRound()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'twitch subscription reconcile failed'))
      .finally(() => {
        this.round = undefined;
        if (this.stopped) return;
        this.timer = setTimeout(() => this.tick(), this.options.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS);
        this.timer.unref();
      });
  }

  private async periodicRound(): Promise<void> {
    const { lease } = this.options;
    if (lease) {
      await lease.hold();
      if (!lease.isHolder || this.stopped) return;
    }
    this.logReport(await this.reconcile());
  }

  private begin(): Promise<ReconcileReport> {
    const run = this.reconcileOnce().finally(() => {
      if (this.current === run) this.current = undefined;
    });
    this.current = run;
    return run;
  }

  private async reconcileOnce(): Promise<ReconcileReport> {
    const { helix, callbackUrl, secret } = this.options;
    const links = await this.options.links();
    const subscribed: string[] = [];
    for (const link of links) {
      // The registry has caught up with an in-memory revocation: from now on it decides.
      if (link.state === 'revoked') this.revokedBroadcasters.delete(link.broadcasterUserId);
      const eligible = link.state === 'active' || (link.revokedReason !== undefined && RESUBSCRIBE_STATUSES.has(link.revokedReason));
      if (eligible && !this.revokedBroadcasters.has(link.broadcasterUserId)) subscribed.push(link.broadcasterUserId);
    }
    const linkedIds = new Set(links.map((link) => link.broadcasterUserId));
    for (const broadcaster of this.revokedBroadcasters) if (!linkedIds.has(broadcaster)) this.revokedBroadcasters.delete(broadcaster);

    const wanted = wantedSubscriptions(subscribed, callbackUrl);
    const existing = await helix.listSubscriptions();
    const plan = planSubscriptions(wanted, existing, { callback: callbackUrl, formerCallbacks: this.options.formerCallbackUrls ?? [] });

    const failures: ReconcileFailure[] = [];
    const deleted: ReconcileReport['deleted'][number][] = [];
    for (const { subscription, reason } of plan.delete) {
      const broadcasterUserId = String(subscription.condition['broadcaster_user_id'] ?? '');
      try {
        await helix.deleteSubscription(subscription.id);
      } catch (error) {
        if (!(error instanceof HelixError && error.kind === HELIX_ERROR_KINDS.notFound)) {
          failures.push({ action: 'delete', type: subscription.type, broadcasterUserId, message: describe(error) });
          continue;
        }
      }
      deleted.push({ id: subscription.id, type: subscription.type, broadcasterUserId, reason });
    }

    const created: EventSubSubscription[] = [];
    for (const entry of plan.create) {
      try {
        const result = await helix.createSubscription({ ...entry, secret });
        if (result.created) created.push(result.subscription);
      } catch (error) {
        failures.push({ action: 'create', type: entry.type, broadcasterUserId: entry.broadcasterUserId, message: describe(error) });
      }
    }
    return { created, deleted, unchanged: plan.keep.length, failures };
  }

  private logReport(report: ReconcileReport): void {
    const fields = { created: report.created.length, deleted: report.deleted.length, unchanged: report.unchanged, failures: report.failures };
    if (report.failures.length > 0) this.options.logger.warn(fields, 'twitch subscriptions reconciled with failures');
    else if (report.created.length + report.deleted.length > 0) this.options.logger.info(fields, 'twitch subscriptions reconciled');
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
