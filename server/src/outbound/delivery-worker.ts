import { isIP } from 'node:net';
import { CONSUMERS, InFlightSlots, STREAMS, decodeText, type Bus, type BusMessage, type Consumer } from '../bus/index.js';
import type { AuditLog } from '../audit/index.js';
import { createJobLimiter, type JobLimiter } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import { DEAD_LETTER_REASONS, attemptedRecord, deliveryJobSchema, pendingRecord, type DeadLetterReason, type DeliveryJob, type DeliveryRecord } from './delivery.js';
import type { DeliveryStore } from './delivery-store.js';
import { DeliveryRefusedError, HostUnresolvedError, WebhookUrlError, hostOf, parseWebhookUrl, resolveDeliveryTarget, type ResolvedAddress, type ResolveHost } from './delivery-target.js';
import { OUTBOUND_AUDIT_ACTIONS, recordOutboundAudit } from './outbound-audit.js';
import type { OutboundMetrics } from './outbound-metrics.js';
import { nextRetryDelayMs, parseRetryAfterMs } from './retry-schedule.js';
import { sendWebhook, type SendResult } from './send-webhook.js';
import { webhookHeaders } from './sign-webhook.js';
import { signingKeys, type SubscriberRecord } from './subscriber.js';
import type { SubscriberStore } from './subscriber-store.js';
import type { WebhookPools } from './webhook-pools.js';

/** A job of a subscriber at its in-flight cap comes back after this (plus up to as much jitter). */
const SUBSCRIBER_BUSY_DELAY_MS = 200;

/**
 * Jobs of one subscriber at its cap that wait in this process for one of its slots rather than
 * going back to the queue for SUBSCRIBER_BUSY_DELAY_MS: a burst (one event to every subscriber,
 * twenty events in a row) is sent as soon as the receiver answers. Beyond this, busy naks.
 */
const SUBSCRIBER_WAITING_MAX = 64;

/**
 * Jobs held by the consumer at once, most of them waiting out a retry delay (nak'ed, still
 * pending). The durable consumer is shared by every replica, so this bound is fleet-wide.
 */
const MAX_HELD_JOBS = 20_000;

/** A job due this close to now is sent rather than nak'ed again. */
const DUE_TOLERANCE_MS = 50;

export interface DeliveryPolicy {
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  /** Delays before each retry; dead-lettered once spent. */
  readonly retryScheduleMs: readonly number[];
  /**
   * Default per-subscriber cap (a subscriber's own `max_in_flight` wins), counted in this
   * process: replicas share the work queue but not their counts, so a fleet of N sends a
   * subscriber up to N times the cap at once.
   */
  readonly maxInFlightPerSubscriber: number;
  /** Attempts in flight in this process across subscribers (per replica too). */
  readonly concurrency: number;
  /** https only (production). */
  readonly requireHttps: boolean;
  /** Hosts allowed to resolve to private ranges (tests, on-prem). Lowercase names or literal addresses. */
  readonly allowPrivateHosts: ReadonlySet<string>;
}

/** What one attempt came to, before it is recorded. */
type AttemptOutcome =
  | { readonly kind: 'dead'; readonly record: DeliveryRecord; readonly reason: DeadLetterReason; readonly error: string | null }
  | { readonly kind: 'sent'; readonly subscriber: SubscriberRecord; readonly result: SendResult; readonly attempts: number; readonly attemptedAt: string };

/** How an attempt's result is settled (and counted): 2xx delivered, 410 gone, anything else retried. */
type AttemptVerdict = 'delivered' | 'gone' | 'retry';

function verdictOf(result: SendResult): AttemptVerdict {
  if (result.kind !== 'response') return 'retry';
  if (result.status >= 200 && result.status < 300) return 'delivered';
  return result.status === 410 ? 'gone' : 'retry';
}

export interface DeliveryWorkerOptions {
  readonly bus: Bus;
  readonly subscribers: SubscriberStore;
  readonly deliveries: DeliveryStore;
  readonly audit: AuditLog;
  readonly metrics: OutboundMetrics;
  readonly logger: Logger;
  readonly pools: WebhookPools;
  readonly policy: DeliveryPolicy;
  readonly resolve?: ResolveHost;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * The durable consumer of the OUTBOUND work queue: signs and POSTs each job to its subscriber,
 * pinned to the address the SSRF check approved. 2xx: delivered. 410: the subscriber is
 * disabled and the job dead-lettered. Anything else (5xx, 3xx, timeouts, resets): nak'ed with
 * the next delay of the retry schedule, dead-lettered when it is spent. The attempt count and
 * due time live in the delivery record, so nak'ing a busy job costs no attempt.
 */
export class DeliveryWorker {
  private consumer: Consumer | undefined;
  /** At most the subscriber's cap in flight to one receiver from this process: a slow receiver cannot hold every slot. */
  private readonly slots = new InFlightSlots();
  private readonly limiter: JobLimiter;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly ackWaitMs: number;
  /** Parsed URLs by subscriber record (a changed subscriber is a new record object). */
  private readonly urls = new WeakMap<SubscriberRecord, URL>();
  /**
   * Checked addresses of URLs whose host is an address literal: the SSRF check's answer for
   * those cannot change, so it is worked out once per URL. Names are resolved on every attempt.
   */
  private readonly literalTargets = new WeakMap<URL, ResolvedAddress>();
  /** Jobs held by this worker (waiting for a slot, sending, being recorded): one timer tells the bus they are still worked on. */
  private readonly held = new Set<BusMessage>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.limiter = createJobLimiter(options.policy.concurrency);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.ackWaitMs = options.policy.timeoutMs + 30_000;
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    this.heartbeat = setInterval(() => {
      for (const message of this.held) message.working();
    }, Math.max(100, Math.floor(this.ackWaitMs / 3)));
    this.heartbeat.unref();
    this.consumer = await this.options.bus.consume(
      { stream: STREAMS.outbound.name, durable: CONSUMERS.outboundDelivery, ackWaitMs: this.ackWaitMs, maxAckPending: MAX_HELD_JOBS },
      (message) => this.handle(message),
    );
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.slots.abandonWaiting();
    await consumer?.stop();
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private async handle(message: BusMessage): Promise<void> {
    const { deliveries, subscribers, logger } = this.options;
    let job: DeliveryJob;
    const jobJson = decodeText(message.data);
    try {
      job = deliveryJobSchema.parse(JSON.parse(jobJson));
    } catch (error) {
      logger.warn({ err: error, seq: message.seq }, 'malformed delivery job dropped');
      message.term();
      return;
    }
    // A first delivery has no record yet; later ones (retries, busy naks, crashes) read it. The
    // count can start over after a consumer's leader changes: the first record is then written
    // as a create, and a record found there is the one the attempt is recorded after (settle).
    const stored = message.deliveryCount === 1 ? undefined : await deliveries.get(job.subscriber_id, job.delivery_id);
    const record = stored ?? pendingRecord(job);
    // A record made from the job alone is written over the job's JSON (see encodeRecordOverJob).
    const recordJobJson = stored === undefined ? jobJson : undefined;
    if (record.status === 'delivered' || record.status === 'dead') return;
    if (record.next_attempt_at !== null) {
      const remainingMs = Date.parse(record.next_attempt_at) - this.now();
      if (remainingMs > DUE_TOLERANCE_MS) {
        message.nak(remainingMs);
        return;
      }
    }
    const subscriber = await subscribers.get(job.subscriber_id);
    if (!subscriber || subscriber.status !== 'enabled') {
      await this.deadLetter(record, DEAD_LETTER_REASONS.subscriberDisabled, null);
      return;
    }
    const cap = subscriber.max_in_flight ?? this.options.policy.maxInFlightPerSubscriber;
    this.held.add(message);
    try {
      if (!(await this.slots.acquire(subscriber.id, cap, SUBSCRIBER_WAITING_MAX))) {
        this.options.metrics.attempts.inc({ event: job.event_type, outcome: 'busy' });
        message.nak(Math.round(SUBSCRIBER_BUSY_DELAY_MS * (1 + this.random())));
        return;
      }
      let outcome: AttemptOutcome;
      try {
        // The subscriber may have changed (or gone) while this job waited for its slot.
        const current = await subscribers.get(job.subscriber_id);
        outcome =
          !current || current.status !== 'enabled'
            ? { kind: 'dead', record, reason: DEAD_LETTER_REASONS.subscriberDisabled, error: null }
            : await this.limiter.run(() => this.send(record, current));
      } finally {
        this.slots.release(subscriber.id);
      }
      // Recorded with the slots free: on NATS a record write is a round trip, and a sending
      // slot held through it sat idle.
      if (outcome.kind === 'dead') await this.deadLetter(outcome.record, outcome.reason, outcome.error);
      else await this.settle(message, record, outcome, recordJobJson);
    } finally {
      this.held.delete(message);
    }
  }

  /** Signs and POSTs one attempt: what came of it, to be recorded by `settle`. */
  private async send(record: DeliveryRecord, subscriber: SubscriberRecord): Promise<AttemptOutcome> {
    const { policy, metrics } = this.options;
    let url: URL;
    try {
      url = this.urlOf(subscriber);
    } catch (error) {
      if (!(error instanceof WebhookUrlError)) throw error;
      return { kind: 'dead', record, reason: DEAD_LETTER_REASONS.urlRefused, error: error.message };
    }
    const attempts = record.attempts + 1;
    const attemptedAt = new Date(this.now()).toISOString();
    let result: SendResult;
    try {
      const pinned = this.literalTargets.get(url) ?? (await this.resolveTarget(url));
      const nowMs = this.now();
      const headers = webhookHeaders(signingKeys(subscriber, nowMs), record.webhook_id, Math.floor(nowMs / 1000), record.body);
      metrics.inFlight.inc();
      try {
        result = await sendWebhook({ url, pinned, headers, body: record.body }, policy, this.options.pools);
      } finally {
        metrics.inFlight.dec();
      }
    } catch (error) {
      if (error instanceof DeliveryRefusedError) {
        metrics.attempts.inc({ event: record.event_type, outcome: 'refused' });
        return { kind: 'dead', record: { ...record, attempts, last_attempt_at: attemptedAt }, reason: DEAD_LETTER_REASONS.addressRefused, error: error.message };
      }
      if (!(error instanceof HostUnresolvedError)) throw error;
      result = { kind: 'failed', reason: 'connection', message: error.message, durationMs: 0 };
    }
    return { kind: 'sent', subscriber, result, attempts, attemptedAt };
  }

  /** The SSRF check of one attempt: resolves the host (an address literal's answer is kept) and pins one address. */
  private async resolveTarget(url: URL): Promise<ResolvedAddress> {
    const pinned = await resolveDeliveryTarget(url, { allowPrivateHosts: this.options.policy.allowPrivateHosts, resolve: this.options.resolve });
    if (isIP(hostOf(url)) !== 0) this.literalTargets.set(url, pinned);
    return pinned;
  }

  /** The subscriber's URL, parsed (and checked) once per subscriber record. */
  private urlOf(subscriber: SubscriberRecord): URL {
    let url = this.urls.get(subscriber);
    if (!url) {
      url = parseWebhookUrl(subscriber.url, { requireHttps: this.options.policy.requireHttps });
      this.urls.set(subscriber, url);
    }
    return url;
  }

  /** Records an attempt: delivered, gone (410: the subscriber is disabled), or nak'ed for its retry. */
  private async settle(message: BusMessage, record: DeliveryRecord, sent: Extract<AttemptOutcome, { kind: 'sent' }>, jobJson: string | undefined): Promise<void> {
    const { metrics } = this.options;
    const { result } = sent;
    if (result.durationMs > 0) metrics.attemptSeconds.observe({ event: record.event_type }, result.durationMs / 1000);
    const verdict = verdictOf(result);
    metrics.attempts.inc({ event: record.event_type, outcome: verdict });
    if (await this.recordAttempt(message, record, sent, verdict, jobJson)) return;
    // Taken for a first delivery, but an earlier delivery of this job had recorded attempts:
    // this attempt is recorded after those, so the count and the retry schedule go on from them.
    const stored = await this.options.deliveries.get(record.subscriber_id, record.delivery_id);
    if (!stored) {
      await this.recordAttempt(message, record, sent, verdict, undefined);
    } else if (stored.status === 'delivered' || stored.status === 'dead') {
      this.options.logger.info({ delivery_id: record.delivery_id, status: stored.status }, 'a repeated delivery of a finished webhook job was sent again; its record stays');
    } else {
      await this.recordAttempt(message, stored, { ...sent, attempts: stored.attempts + 1 }, verdict, undefined);
    }
  }

  /**
   * Writes the record of an attempt on `record` (`verdict`: its result, classified once by
   * `settle`) and naks the job for its retry. With `jobJson` (a record made from the job alone,
   * on a first delivery), the write is a create: false, and nothing is written or nak'ed, when
   * the delivery already has a record.
   */
  private async recordAttempt(message: BusMessage, record: DeliveryRecord, sent: Extract<AttemptOutcome, { kind: 'sent' }>, verdict: AttemptVerdict, jobJson: string | undefined): Promise<boolean> {
    const { policy } = this.options;
    const { subscriber, result, attempts, attemptedAt } = sent;
    const delivered = verdict === 'delivered';
    const attempted = attemptedRecord(record, {
      status: delivered ? 'delivered' : record.status,
      attempts,
      last_attempt_at: attemptedAt,
      last_response_status: result.kind === 'response' ? result.status : null,
      last_error: result.kind === 'response' ? (delivered ? null : `http_${result.status}`) : result.reason,
      next_attempt_at: delivered ? null : record.next_attempt_at,
    });
    if (delivered) return this.writeRecord(attempted, jobJson);
    if (verdict === 'gone') {
      await this.disableGone(subscriber);
      await this.deadLetter(attempted, DEAD_LETTER_REASONS.gone, 'http_410');
      return true;
    }
    const retryAfterMs = result.kind === 'response' ? parseRetryAfterMs(result.retryAfter, this.now()) : undefined;
    const delayMs = nextRetryDelayMs(attempts, policy.retryScheduleMs, { random: this.random, retryAfterMs });
    if (delayMs === undefined) {
      await this.deadLetter(attempted, DEAD_LETTER_REASONS.retriesExhausted, attempted.last_error);
      return true;
    }
    if (!(await this.writeRecord({ ...attempted, status: 'retrying', next_attempt_at: new Date(this.now() + delayMs).toISOString() }, jobJson))) return false;
    message.nak(delayMs);
    return true;
  }

  /**
   * Writes `record`: a create over the job's JSON when `jobJson` is given (false when the delivery
   * has a record already), else a put. A method, not a closure made per attempt: tsx names
   * such a closure (`__name`, a property definition) every time, 1.6-2% of the outbound bench's
   * busy time.
   */
  private async writeRecord(record: DeliveryRecord, jobJson: string | undefined): Promise<boolean> {
    if (jobJson !== undefined) return this.options.deliveries.createFirst(record, jobJson);
    await this.options.deliveries.put(record);
    return true;
  }

  private async deadLetter(record: DeliveryRecord, reason: DeadLetterReason, error: string | null): Promise<void> {
    const atIso = new Date(this.now()).toISOString();
    await this.options.deliveries.putDeadLetter({
      ...record,
      status: 'dead',
      dead_reason: reason,
      last_error: error ?? record.last_error,
      next_attempt_at: null,
      updated_at: atIso,
    });
    this.options.metrics.deadLetters.inc({ reason });
    this.options.logger.warn(
      { delivery_id: record.delivery_id, subscriber_id: record.subscriber_id, attempts: record.attempts, reason },
      'webhook delivery dead-lettered',
    );
  }

  /** 410 Gone: the receiver wants no more; disable the subscriber (once) and audit it. */
  private async disableGone(subscriber: SubscriberRecord): Promise<void> {
    let changed = false;
    await this.options.subscribers.update(subscriber.id, (current) => {
      changed = current.status === 'enabled';
      return changed ? { ...current, status: 'disabled', disabled_reason: 'gone', updated_at: new Date(this.now()).toISOString() } : current;
    });
    if (!changed) return;
    await recordOutboundAudit(this.options.audit, {
      actor: 'outbound',
      action: OUTBOUND_AUDIT_ACTIONS.subscriberDisabled,
      target: subscriber.id,
      reason: 'receiver answered 410 Gone',
    });
  }
}
