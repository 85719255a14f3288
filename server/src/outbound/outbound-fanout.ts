import { CONSUMERS, STREAMS, SUBJECTS, type Bus, type BusMessage, type Consumer } from '../bus/index.js';
import { liveStatusOf } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import { clipPublishedEventSchema } from '../publishing/index.js';
import { deliveryIdFor } from './delivery.js';
import { clipPublishedEvent, liveStatusEvent, webhookIdFor, type OutboundEvent } from './outbound-event.js';
import type { OutboundMetrics } from './outbound-metrics.js';
import { subscriberWants } from './subscriber.js';
import type { SubscriberStore } from './subscriber-store.js';

export interface OutboundFanoutOptions {
  readonly bus: Bus;
  readonly subscribers: SubscriberStore;
  readonly metrics: OutboundMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Turns `live.status.>` and `clips.published.>` into one delivery job per interested subscriber
 * on the OUTBOUND work queue. Durable consumers, so an event published while this process was
 * down still goes out; a subscriber only gets events that happened after it was created. A
 * redelivered event makes the same delivery ids, which the bus drops as duplicates.
 */
export class OutboundFanout {
  private readonly consumers: Consumer[] = [];
  private readonly now: () => number;

  constructor(private readonly options: OutboundFanoutOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.consumers.length > 0) return;
    const { bus } = this.options;
    this.consumers.push(
      await bus.consume(
        { stream: STREAMS.liveStatus.name, durable: CONSUMERS.outboundLiveStatus, maxAckPending: 64 },
        (message) => this.handle(message, 'live.status'),
      ),
      await bus.consume(
        { stream: STREAMS.clips.name, durable: CONSUMERS.outboundClips, maxAckPending: 64 },
        (message) => this.handle(message, 'clip.published'),
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((consumer) => consumer.stop()));
  }

  private async handle(message: BusMessage, kind: 'live.status' | 'clip.published'): Promise<void> {
    const event = this.toEvent(message, kind);
    if (!event) {
      message.term();
      return;
    }
    await this.fanOut(event);
  }

  private toEvent(message: BusMessage, kind: 'live.status' | 'clip.published'): OutboundEvent | undefined {
    const webhookId = webhookIdFor(message.subject, message.data);
    if (kind === 'live.status') {
      // An undecodable one is terminated and logged by liveStatusOf; handle's term after it is a no-op (a message settles once).
      const record = liveStatusOf(message, this.options.logger, 'not sent to webhook subscribers');
      return record && liveStatusEvent(record, webhookId);
    }
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(message.data));
    } catch {
      value = undefined;
    }
    const parsed = clipPublishedEventSchema.safeParse(value);
    if (parsed.success) return clipPublishedEvent(parsed.data, webhookId);
    this.options.logger.warn({ subject: message.subject, seq: message.seq }, 'malformed event not sent to webhook subscribers');
    return undefined;
  }

  /**
   * One job per subscriber that wants the event and existed when it happened. The publishes go
   * out together and are awaited together (on NATS one round trip for all, not one per
   * subscriber: with 100 subscribers the serial acks were most of an event's fan-out); any
   * failure fails the event once all have settled, and its redelivery makes the same delivery
   * ids, which the bus drops as duplicates. The jobs differ only in their ids, so the event's
   * part of the JSON (the body above all) is encoded once, not once per subscriber.
   */
  async fanOut(event: OutboundEvent): Promise<number> {
    const happenedAtMs = Date.parse(event.timestamp);
    const createdAt = new Date(this.now()).toISOString();
    const encode = deliveryJobEncoder(event, createdAt);
    const publishes: Promise<void>[] = [];
    for (const subscriber of this.options.subscribers.list()) {
      if (!subscriberWants(subscriber, event.type, event.channel)) continue;
      if (!(Date.parse(subscriber.created_at) <= happenedAtMs)) continue;
      const deliveryId = deliveryIdFor(event.webhookId, subscriber.id);
      publishes.push(
        this.options.bus.publish(SUBJECTS.outboundDelivery(subscriber.id), encode(deliveryId, subscriber.id), { msgId: deliveryId }).then(() => {
          this.options.metrics.fannedOut.inc({ event: event.type });
        }),
      );
    }
    const failed = (await Promise.allSettled(publishes)).find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return publishes.length;
  }
}

/**
 * The bytes of an event's delivery jobs by delivery and subscriber id: the same JSON as
 * `encodeJson` of the `DeliveryJob` (same keys, same order; `outbound-fanout.test.ts` holds them
 * together), with the event's fields encoded once.
 */
export function deliveryJobEncoder(event: OutboundEvent, createdAt: string): (deliveryId: string, subscriberId: string) => Uint8Array {
  const afterDelivery = `,"webhook_id":${JSON.stringify(event.webhookId)},"subscriber_id":`;
  const afterSubscriber =
    `,"event_type":${JSON.stringify(event.type)},"channel":${JSON.stringify(event.channel)},"body":${JSON.stringify(event.body)}` +
    `,"created_at":${JSON.stringify(createdAt)},"replay_of":null}`;
  return (deliveryId, subscriberId) =>
    Buffer.from(`{"delivery_id":${JSON.stringify(deliveryId)}${afterDelivery}${JSON.stringify(subscriberId)}${afterSubscriber}`, 'utf8');
}
