import { z } from 'zod';
import { parseChannelRef, type ChannelRef } from '@live-upload/schema';
import { DeliveryRefusedError, WebhookUrlError, nextRetryDelayMs } from '../outbound/index.js';
import { decodeJson, encodeJson, type Bus, type BusMessage, type Consumer, type StreamConfig } from '../bus/index.js';
import type { FederationAttemptOutcome, FederationDeliveryOutcome, FederationMetrics, Logger } from '../observability/index.js';
import { ACTIVITY_JSON, type ActivityObject } from './activities.js';
import { actorUrls } from './actor-urls.js';
import type { DeadLetters } from './dead-letters.js';
import { hashKey, type ActorKeys, type Blocks } from './federation-stores.js';
import { guardedRequest, type FederationNetworkPolicy } from './guarded-http.js';
import { signPost } from './http-signature.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** One delivery per activity and inbox: `federation.deliveries.{publisher}.{slug}` (msg id = delivery id). */
export const FEDERATION_SUBJECT = (ref: ChannelRef) => `federation.deliveries.${ref.publisher}.${ref.slug}`;

/**
 * The federation work queue, like OUTBOUND: an acked job is gone, a failed one is nak'ed with
 * the outbound retry schedule; jobs outlive it. A re-enqueued delivery is a duplicate for a day.
 * Declared here (not in bus/subjects.ts) because only federation publishes or reads it.
 */
export const FEDERATION_STREAM = {
  name: 'FEDERATION',
  subjects: ['federation.deliveries.>'],
  retention: 'workqueue',
  maxAgeMs: 7 * DAY_MS,
  duplicateWindowMs: DAY_MS,
} as const satisfies StreamConfig;

export const FEDERATION_CONSUMERS = { delivery: 'federation-delivery', liveStatus: 'federation-live-status' } as const;

export const federationJobSchema = z.object({
  delivery_id: z.string(),
  /** `{publisher}/{slug}`: whose key signs. */
  channel: z.string(),
  inbox: z.string(),
  /** The recipient's actor id (checked against the blocks at send time too). */
  recipient: z.string(),
  /** The exact JSON body, the same on every attempt. */
  activity: z.string(),
  /** Its `type` (Create, Update, Delete, Accept, Reject): the metrics' label, the dead letter's. Absent in jobs made before it was added. */
  activity_type: z.string().optional(),
  /** The dead letter this job retries (the admin's retry). */
  retry_of: z.string().optional(),
});
export type FederationJob = z.infer<typeof federationJobSchema>;

/** Enqueues an activity to one inbox; the delivery id (from the activity's id and the inbox) makes a repeat a duplicate. */
export async function enqueueDelivery(bus: Bus, ref: ChannelRef, activity: ActivityObject, recipient: { actor: string; inbox: string }, body = JSON.stringify(activity)): Promise<void> {
  const job: FederationJob = {
    delivery_id: `fed_${hashKey(`${String(activity['id'])}\n${recipient.inbox}`)}`,
    channel: `${ref.publisher}/${ref.slug}`,
    inbox: recipient.inbox,
    recipient: recipient.actor,
    activity: body,
    activity_type: String(activity['type']),
  };
  await publishJob(bus, ref, job);
}

/** Puts a job on the work queue under its delivery id (the queue drops a repeat within a day). */
export async function publishJob(bus: Bus, ref: ChannelRef, job: FederationJob): Promise<void> {
  await bus.publish(FEDERATION_SUBJECT(ref), encodeJson(job), { msgId: job.delivery_id });
}

/** The activity type of a job (from the body for jobs made before `activity_type` was kept). */
export function activityTypeOf(job: FederationJob): string {
  if (job.activity_type) return job.activity_type;
  try {
    const type = (JSON.parse(job.activity) as { type?: unknown }).type;
    return typeof type === 'string' ? type : 'unknown';
  } catch {
    return 'unknown';
  }
}

function activityIdOf(body: string): string | null {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

export interface FederationDeliveryOptions {
  readonly bus: Bus;
  readonly keys: ActorKeys;
  readonly blocks: Blocks;
  readonly policy: FederationNetworkPolicy;
  readonly retryScheduleMs: readonly number[];
  readonly publicUrl: () => string;
  readonly logger: Logger;
  readonly metrics: FederationMetrics;
  /** Where deliveries that gave up after their retries are kept for the admin. */
  readonly deadLetters: DeadLetters;
  readonly now?: () => number;
}

/**
 * Sends the federation work queue: each job signed with its channel's key (draft-cavage, as
 * Mastodon checks) and POSTed under the SSRF rules. 2xx: done. A refused address, a bad URL or a
 * 4xx other than 408/429: dropped (logged). Anything else: retried on the outbound schedule, then
 * kept as a dead letter for the admin to retry or discard. A recipient blocked since the job was
 * made gets nothing. Every attempt and every end is counted (`FederationMetrics`).
 */
export class FederationDelivery {
  private consumer: Consumer | undefined;
  constructor(private readonly options: FederationDeliveryOptions) {}

  async start(): Promise<void> {
    if (this.consumer) return;
    this.consumer = await this.options.bus.consume(
      { stream: FEDERATION_STREAM.name, durable: FEDERATION_CONSUMERS.delivery, ackWaitMs: this.options.policy.timeoutMs + 30_000, maxAckPending: 1024 },
      (message) => this.handle(message),
    );
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }

  private async handle(message: BusMessage): Promise<void> {
    const { logger, metrics } = this.options;
    let job: FederationJob;
    try {
      job = decodeJson(message.data, federationJobSchema);
    } catch (error) {
      logger.warn({ err: error, seq: message.seq }, 'malformed federation job dropped');
      message.term();
      return;
    }
    const ref = parseChannelRef(job.channel);
    if (!ref) {
      message.term();
      return;
    }
    const activity = activityTypeOf(job);
    const ended = (outcome: FederationDeliveryOutcome) => metrics.deliveries.inc({ activity, outcome });
    const attempted = (outcome: FederationAttemptOutcome) => metrics.attempts.inc({ activity, outcome });
    if ((await this.options.blocks.isBlocked(job.recipient)) || (await this.options.blocks.isBlocked(job.inbox))) {
      logger.info({ delivery: job.delivery_id, inbox: job.inbox }, 'federation delivery to a blocked recipient dropped');
      ended('blocked');
      return;
    }
    const pair = await this.options.keys.get(ref);
    const url = new URL(job.inbox);
    const headers = signPost({ keyId: actorUrls(this.options.publicUrl(), ref).keyId, privateKeyPem: pair.private_key_pem, url, body: job.activity, date: new Date((this.options.now ?? Date.now)()) });
    let status: number;
    const stopTimer = metrics.attemptSeconds.startTimer({ activity });
    try {
      const response = await guardedRequest({ method: 'POST', url: job.inbox, headers: { ...headers, 'content-type': ACTIVITY_JSON, accept: ACTIVITY_JSON }, body: job.activity, maxResponseBytes: 64 * 1024 }, this.options.policy);
      status = response.status;
    } catch (error) {
      if (error instanceof DeliveryRefusedError || error instanceof WebhookUrlError) {
        logger.warn({ delivery: job.delivery_id, inbox: job.inbox, err: error }, 'federation delivery refused (SSRF rules)');
        attempted('refused');
        ended('refused');
        message.term();
        return;
      }
      stopTimer();
      attempted('failed');
      await this.retry(message, job, error instanceof Error ? error.message : String(error));
      return;
    }
    stopTimer();
    if (status >= 200 && status < 300) {
      attempted('delivered');
      ended('delivered');
      return;
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      logger.warn({ delivery: job.delivery_id, inbox: job.inbox, status }, 'federation delivery rejected by the receiver');
      attempted('rejected');
      ended('rejected');
      message.term();
      return;
    }
    attempted('failed');
    await this.retry(message, job, `status ${status}`);
  }

  /**
   * Naks with the next delay of the schedule; past its end the job becomes a dead letter first
   * (written before the queue forgets it: a crash in between redelivers it, which writes the same
   * dead letter again under its delivery id).
   */
  private async retry(message: BusMessage, job: FederationJob, reason: string): Promise<void> {
    const delayMs = nextRetryDelayMs(message.deliveryCount, this.options.retryScheduleMs);
    if (delayMs !== undefined) {
      message.nak(delayMs);
      return;
    }
    this.options.logger.warn({ delivery: job.delivery_id, inbox: job.inbox, reason, attempts: message.deliveryCount }, 'federation delivery gave up after its retries: dead-lettered');
    await this.options.deadLetters.put({
      delivery_id: job.delivery_id,
      channel: job.channel,
      inbox: job.inbox,
      recipient: job.recipient,
      activity_type: activityTypeOf(job),
      activity_id: activityIdOf(job.activity),
      activity: job.activity,
      attempts: message.deliveryCount,
      last_error: reason.slice(0, 500),
      failed_at: new Date((this.options.now ?? Date.now)()).toISOString(),
      retry_of: job.retry_of ?? null,
    });
    this.options.metrics.deliveries.inc({ activity: activityTypeOf(job), outcome: 'dead_lettered' });
    message.term();
  }
}
