import { ulid } from 'ulid';
import { SUBJECTS, encodeJson, type Bus } from '../bus/index.js';
import type { AuditLog } from '../audit/index.js';
import { AppError } from '../errors/index.js';
import { DELIVERY_ID_PATTERN, type DeliveryJob, type DeliveryRecord, pendingRecord } from './delivery.js';
import type { DeliveryStore } from './delivery-store.js';
import { DeliveryRefusedError, HostUnresolvedError, WebhookUrlError, parseWebhookUrl, resolveDeliveryTarget, type ResolveHost } from './delivery-target.js';
import { OUTBOUND_AUDIT_ACTIONS, recordOutboundAudit } from './outbound-audit.js';
import {
  SUBSCRIBER_ID_PATTERN,
  publicSubscriber,
  type SubscriberCreate,
  type SubscriberRecord,
  type SubscriberUpdate,
} from './subscriber.js';
import type { SubscriberStore } from './subscriber-store.js';
import { generateWebhookSecret } from './webhook-secret.js';

/** A rotated-out secret keeps signing this long unless the request says otherwise. */
export const DEFAULT_PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

/** Deliveries and dead letters listed at most per request. */
export const MAX_LISTED_DELIVERIES = 200;

export interface OutboundAdminOptions {
  readonly bus: Bus;
  readonly subscribers: SubscriberStore;
  readonly deliveries: DeliveryStore;
  readonly audit: AuditLog;
  readonly requireHttps: boolean;
  readonly allowPrivateHosts: ReadonlySet<string>;
  readonly resolve?: ResolveHost;
  readonly now?: () => number;
}

/** A subscriber as the admin API shows it; `secret` only in the answer that created or rotated it. */
export type SubscriberView = Record<string, unknown>;

/**
 * What the admin API does with subscribers, deliveries and dead letters. Validation of shapes
 * happens at the route (zod); this checks the URL (scheme, credentials, SSRF), keeps the
 * secrets, audits every change, and re-sends deliveries.
 */
export class OutboundAdmin {
  private readonly now: () => number;

  constructor(private readonly options: OutboundAdminOptions) {
    this.now = options.now ?? Date.now;
  }

  async create(input: SubscriberCreate, actor: string): Promise<SubscriberView> {
    const url = await this.checkUrl(input.url);
    const secret = input.secret ?? generateWebhookSecret();
    const atIso = new Date(this.now()).toISOString();
    const record: SubscriberRecord = {
      id: `sub_${ulid(this.now())}`,
      url,
      events: input.events,
      channels: input.channels,
      description: input.description,
      status: 'enabled',
      disabled_reason: null,
      max_in_flight: input.max_in_flight ?? null,
      secrets: [{ secret, created_at: atIso, expires_at: null }],
      created_at: atIso,
      updated_at: atIso,
    };
    await this.options.subscribers.create(record);
    await recordOutboundAudit(this.options.audit, {
      actor,
      action: OUTBOUND_AUDIT_ACTIONS.subscriberCreated,
      target: record.id,
      details: { url: record.url, events: record.events, channels: record.channels, secret_generated: input.secret === undefined },
    });
    return { ...publicSubscriber(record), secret };
  }

  list(): SubscriberView[] {
    return this.options.subscribers.list().map(publicSubscriber);
  }

  async get(id: string): Promise<SubscriberView> {
    return publicSubscriber(await this.require(id));
  }

  async update(id: string, update: SubscriberUpdate, actor: string): Promise<SubscriberView> {
    await this.require(id);
    const url = update.url === undefined ? undefined : await this.checkUrl(update.url);
    const atIso = new Date(this.now()).toISOString();
    const updated = await this.options.subscribers.update(id, (current) => ({
      ...current,
      ...(url === undefined ? {} : { url }),
      ...(update.events === undefined ? {} : { events: update.events }),
      ...(update.channels === undefined ? {} : { channels: update.channels }),
      ...(update.description === undefined ? {} : { description: update.description }),
      ...(update.max_in_flight === undefined ? {} : { max_in_flight: update.max_in_flight }),
      ...(update.enabled === undefined
        ? {}
        : update.enabled
          ? { status: 'enabled' as const, disabled_reason: null }
          : { status: 'disabled' as const, disabled_reason: 'admin' as const }),
      updated_at: atIso,
    }));
    if (!updated) throw this.notFound(id);
    await recordOutboundAudit(this.options.audit, {
      actor,
      action: OUTBOUND_AUDIT_ACTIONS.subscriberUpdated,
      target: id,
      details: { changed: Object.keys(update), ...(url === undefined ? {} : { url }) },
    });
    return publicSubscriber(updated);
  }

  async delete(id: string, actor: string): Promise<void> {
    this.checkId(id);
    if (!(await this.options.subscribers.delete(id))) throw this.notFound(id);
    await recordOutboundAudit(this.options.audit, { actor, action: OUTBOUND_AUDIT_ACTIONS.subscriberDeleted, target: id });
  }

  /** A new current secret (given or generated, returned once); the previous one signs too until its TTL ends. */
  async rotateSecret(id: string, request: { secret?: string; previous_secret_ttl_s?: number }, actor: string): Promise<SubscriberView> {
    await this.require(id);
    const secret = request.secret ?? generateWebhookSecret();
    const nowMs = this.now();
    const atIso = new Date(nowMs).toISOString();
    const ttlMs = request.previous_secret_ttl_s === undefined ? DEFAULT_PREVIOUS_SECRET_TTL_MS : request.previous_secret_ttl_s * 1000;
    const expiresAt = new Date(nowMs + ttlMs).toISOString();
    const updated = await this.options.subscribers.update(id, (current) => {
      if (current.secrets.some((stored) => stored.secret === secret)) {
        throw new AppError('conflict', 'secret: must differ from the secrets in use');
      }
      const previous = current.secrets
        .map((stored) => ({ ...stored, expires_at: stored.expires_at === null || stored.expires_at > expiresAt ? expiresAt : stored.expires_at }))
        .filter((stored) => Date.parse(stored.expires_at) > nowMs)
        .slice(0, 2);
      return { ...current, secrets: [{ secret, created_at: atIso, expires_at: null }, ...previous], updated_at: atIso };
    });
    if (!updated) throw this.notFound(id);
    await recordOutboundAudit(this.options.audit, {
      actor,
      action: OUTBOUND_AUDIT_ACTIONS.secretRotated,
      target: id,
      details: { previous_secret_ttl_s: Math.round(ttlMs / 1000), secret_generated: request.secret === undefined },
    });
    return { ...publicSubscriber(updated), secret };
  }

  async deliveries(subscriberId: string, limit: number): Promise<DeliveryRecord[]> {
    await this.require(subscriberId);
    return this.options.deliveries.list(subscriberId, Math.min(limit, MAX_LISTED_DELIVERIES));
  }

  async delivery(subscriberId: string, deliveryId: string): Promise<DeliveryRecord> {
    this.checkId(subscriberId);
    this.checkDeliveryId(deliveryId);
    const record =
      (await this.options.deliveries.getDeadLetter(subscriberId, deliveryId)) ?? (await this.options.deliveries.get(subscriberId, deliveryId));
    if (!record) throw new AppError('not_found', `no delivery ${deliveryId} of ${subscriberId}`);
    return record;
  }

  async deadLetters(subscriberId: string | undefined, limit: number): Promise<DeliveryRecord[]> {
    if (subscriberId !== undefined) this.checkId(subscriberId);
    return this.options.deliveries.listDeadLetters(subscriberId, Math.min(limit, MAX_LISTED_DELIVERIES));
  }

  async deleteDeadLetter(subscriberId: string, deliveryId: string, actor: string): Promise<void> {
    this.checkId(subscriberId);
    this.checkDeliveryId(deliveryId);
    if (!(await this.options.deliveries.deleteDeadLetter(subscriberId, deliveryId))) {
      throw new AppError('not_found', `no dead letter ${deliveryId} of ${subscriberId}`);
    }
    await recordOutboundAudit(this.options.audit, { actor, action: OUTBOUND_AUDIT_ACTIONS.deadLetterDeleted, target: `${subscriberId}/${deliveryId}` });
  }

  /**
   * Re-sends a delivery (delivered, retrying or dead) as a new delivery with the same webhook id
   * and body, so the receiver can still dedupe it. The subscriber must be enabled.
   */
  async replay(subscriberId: string, deliveryId: string, actor: string): Promise<DeliveryRecord> {
    const original = await this.delivery(subscriberId, deliveryId);
    const subscriber = await this.require(subscriberId);
    if (subscriber.status !== 'enabled') throw new AppError('conflict', `subscriber ${subscriberId} is disabled; enable it first`);
    const job: DeliveryJob = {
      delivery_id: `dlv_${ulid(this.now())}`,
      webhook_id: original.webhook_id,
      subscriber_id: subscriberId,
      event_type: original.event_type,
      channel: original.channel,
      body: original.body,
      created_at: new Date(this.now()).toISOString(),
      replay_of: original.delivery_id,
    };
    const pending = pendingRecord(job);
    await this.options.deliveries.put(pending);
    await this.options.bus.publish(SUBJECTS.outboundDelivery(subscriberId), encodeJson(job), { msgId: job.delivery_id });
    const marked = await this.options.deliveries.updateDeadLetter(subscriberId, deliveryId, (current) => ({ ...current, replayed_as: [...current.replayed_as, job.delivery_id] }));
    if (!marked) await this.options.deliveries.put({ ...original, replayed_as: [...original.replayed_as, job.delivery_id] });
    await recordOutboundAudit(this.options.audit, {
      actor,
      action: OUTBOUND_AUDIT_ACTIONS.deliveryReplayed,
      target: `${subscriberId}/${deliveryId}`,
      details: { replay: job.delivery_id },
    });
    return pending;
  }

  /** Syntax, scheme and credentials, then the SSRF rule on what the host resolves to now. */
  private async checkUrl(text: string): Promise<string> {
    let url: URL;
    try {
      url = parseWebhookUrl(text, { requireHttps: this.options.requireHttps });
      await resolveDeliveryTarget(url, { allowPrivateHosts: this.options.allowPrivateHosts, resolve: this.options.resolve });
    } catch (error) {
      if (error instanceof WebhookUrlError || error instanceof DeliveryRefusedError) throw new AppError('invalid_body', `url: ${error.message}`);
      if (error instanceof HostUnresolvedError) throw new AppError('invalid_body', `url: ${error.message}`);
      throw error;
    }
    return url.href;
  }

  private checkId(id: string): void {
    if (!SUBSCRIBER_ID_PATTERN.test(id)) throw this.notFound(id);
  }

  private checkDeliveryId(id: string): void {
    if (!DELIVERY_ID_PATTERN.test(id)) throw new AppError('not_found', 'no such delivery');
  }

  private notFound(id: string): AppError {
    return new AppError('not_found', SUBSCRIBER_ID_PATTERN.test(id) ? `no subscriber ${id}` : 'no such subscriber');
  }

  private async require(id: string): Promise<SubscriberRecord> {
    this.checkId(id);
    const record = await this.options.subscribers.get(id);
    if (!record) throw this.notFound(id);
    return record;
  }
}
