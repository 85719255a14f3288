import { redeliveryDelayMs, subjectMatches, type BusMessage, type Consumer, type ConsumerOptions, type MessageHandler } from './bus.js';
import { ByteArena } from './byte-arena.js';
import type { MemoryStream, StoredMessage } from './memory-stream.js';
import { TimedQueue } from './timed-queue.js';

/**
 * A durable consumer of the memory bus: delivery with ack / nak(delay) / ack-wait redelivery,
 * max-ack-pending and max-deliver, shared by the handlers attached under one durable name.
 */

interface Attachment {
  readonly handler: MessageHandler;
  readonly inFlight: Set<Promise<void>>;
  stopped: boolean;
}

/** One durable consumer: its position, its unacked messages, and the handlers attached to it. */
export class DurableState {
  private deliveredUpTo = 0;
  private readonly deliveryCounts = new Map<number, number>();
  /**
   * Delivered and not yet acked/terminated: counts against maxAckPending. `dueAtMs` is when it
   * is redelivered if still unsettled; `timer` is set only for a nak with a delay.
   */
  private readonly pending = new Map<number, { timer: ReturnType<typeof setTimeout> | undefined; dueAtMs: number }>();
  /** Pending messages whose redelivery is due now (nak'ed or ack-wait expired). */
  private readonly due: number[] = [];
  /**
   * Ack-wait deadlines in the order they were set. The ack wait is one duration per consumer,
   * so this is (nearly) sorted by due time and one timer for its head serves every delivery:
   * a timer per delivery was the largest cost of a message through this bus. Entries whose
   * message was settled or re-armed since are skipped when they come up.
   */
  private readonly deadlines = new TimedQueue<number>();
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimerAtMs = Number.POSITIVE_INFINITY;
  private readonly attachments: Attachment[] = [];
  private nextAttachment = 0;
  /** Where the delivered copies live (see `copyBytes`). */
  private readonly arena = new ByteArena();
  private options!: Required<Omit<ConsumerOptions, 'filterSubject'>> & { filterSubject: string | undefined };

  constructor(
    readonly stream: MemoryStream,
    options: ConsumerOptions,
    private readonly now: () => number,
  ) {
    this.configure(options);
  }

  configure(options: ConsumerOptions): void {
    this.options = {
      stream: options.stream,
      durable: options.durable,
      filterSubject: options.filterSubject,
      ackWaitMs: options.ackWaitMs ?? 30_000,
      maxDeliver: options.maxDeliver ?? -1,
      maxAckPending: options.maxAckPending ?? 64,
    };
  }

  attach(handler: MessageHandler): Consumer {
    const attachment: Attachment = { handler, inFlight: new Set(), stopped: false };
    this.attachments.push(attachment);
    queueMicrotask(() => this.pump());
    return {
      stop: async () => {
        attachment.stopped = true;
        const index = this.attachments.indexOf(attachment);
        if (index >= 0) this.attachments.splice(index, 1);
        await Promise.allSettled([...attachment.inFlight]);
      },
    };
  }

  async stopAll(): Promise<void> {
    const attached = this.attachments.splice(0);
    for (const attachment of attached) attachment.stopped = true;
    for (const entry of this.pending.values()) if (entry.timer) clearTimeout(entry.timer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    await Promise.allSettled(attached.flatMap((attachment) => [...attachment.inFlight]));
  }

  /** Whether this consumer has yet to deliver `message` (one its filter takes) or to see it settled. */
  needs(message: StoredMessage): boolean {
    if (this.pending.has(message.seq)) return true;
    return message.seq > this.deliveredUpTo && (this.options.filterSubject === undefined || subjectMatches(this.options.filterSubject, message.subject));
  }

  /** Delivers as much as the ack-pending cap and the attached handlers allow. */
  pump(): void {
    while (this.attachments.length > 0) {
      const seq = this.takeNext();
      if (seq === undefined) return;
      const message = this.stream.get(seq);
      if (!message) {
        this.settle(seq);
        continue;
      }
      const attachment = this.attachments[this.nextAttachment++ % this.attachments.length]!;
      this.deliver(attachment, message);
    }
  }

  private takeNext(): number | undefined {
    const redelivery = this.due.shift();
    if (redelivery !== undefined) return redelivery;
    if (this.pending.size >= this.options.maxAckPending) return undefined;
    const next = this.stream.nextAfter(this.deliveredUpTo, this.options.filterSubject);
    if (!next) return undefined;
    this.deliveredUpTo = next.seq;
    return next.seq;
  }

  private deliver(attachment: Attachment, stored: StoredMessage): void {
    const seq = stored.seq;
    const deliveryCount = (this.deliveryCounts.get(seq) ?? 0) + 1;
    this.deliveryCounts.set(seq, deliveryCount);
    this.armAckWait(seq, this.options.ackWaitMs);

    const message = new MemoryBusMessage(this, stored.subject, this.arena.copy(stored.data), seq, deliveryCount);

    let handled: Promise<void>;
    try {
      handled = Promise.resolve(attachment.handler(message));
    } catch (error) {
      handled = Promise.reject(error);
    }
    const run: Promise<void> = handled.then(
      () => {
        attachment.inFlight.delete(run);
        message.ack();
      },
      () => {
        attachment.inFlight.delete(run);
        message.nak(redeliveryDelayMs(deliveryCount));
      },
    );
    attachment.inFlight.add(run);
  }

  /** A delivered message was acked or terminated: it is done for this consumer. */
  settleDelivered(seq: number): void {
    this.settle(seq);
    this.stream.acknowledged(seq);
    this.pump();
  }

  /** The handler of a delivered message is still at it: its ack wait starts over. */
  extendAckWait(seq: number): void {
    this.armAckWait(seq, this.options.ackWaitMs);
  }

  /** Redelivers `seq` after `delayMs` unless it is settled first (the ack wait). */
  private armAckWait(seq: number, delayMs: number): void {
    const previous = this.pending.get(seq);
    if (previous?.timer) clearTimeout(previous.timer);
    const dueAtMs = this.now() + delayMs;
    this.pending.set(seq, { timer: undefined, dueAtMs });
    this.deadlines.push(seq, dueAtMs);
    this.armDeadlineTimer(dueAtMs);
  }

  private armDeadlineTimer(dueAtMs: number): void {
    if (this.deadlineTimer && this.deadlineTimerAtMs <= dueAtMs) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimerAtMs = dueAtMs;
    this.deadlineTimer = setTimeout(() => this.expireDeadlines(), Math.max(0, dueAtMs - this.now()));
    this.deadlineTimer.unref?.();
  }

  private expireDeadlines(): void {
    this.deadlineTimer = undefined;
    this.deadlineTimerAtMs = Number.POSITIVE_INFINITY;
    const nowMs = this.now();
    const expired: number[] = [];
    for (let seq = this.deadlines.headKey; seq !== undefined; seq = this.deadlines.headKey) {
      const dueAtMs = this.deadlines.headMs!;
      const entry = this.pending.get(seq);
      if (!entry || entry.timer || entry.dueAtMs !== dueAtMs) {
        this.deadlines.shift(); // settled, nak'ed with a delay, or re-armed since
        continue;
      }
      if (dueAtMs > nowMs) {
        this.armDeadlineTimer(dueAtMs);
        break;
      }
      this.deadlines.shift();
      expired.push(seq);
    }
    for (const seq of expired) this.redeliver(seq);
  }

  /** A nak: redelivered now, or after its own delay. */
  scheduleRedelivery(seq: number, delayMs: number): void {
    if (delayMs <= 0) {
      this.redeliver(seq);
      return;
    }
    const previous = this.pending.get(seq);
    if (previous?.timer) clearTimeout(previous.timer);
    const timer = setTimeout(() => this.redeliver(seq), delayMs);
    timer.unref?.();
    this.pending.set(seq, { timer, dueAtMs: this.now() + delayMs });
  }

  private redeliver(seq: number): void {
    const entry = this.pending.get(seq);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    const deliveries = this.deliveryCounts.get(seq) ?? 0;
    if (this.options.maxDeliver > 0 && deliveries >= this.options.maxDeliver) {
      // Given up: like JetStream, the message stays in the stream but this consumer moves on.
      this.settle(seq);
      this.pump();
      return;
    }
    this.pending.set(seq, { timer: undefined, dueAtMs: Number.NaN });
    this.due.push(seq);
    this.pump();
  }

  private settle(seq: number): void {
    const entry = this.pending.get(seq);
    if (entry?.timer) clearTimeout(entry.timer);
    this.pending.delete(seq);
    this.deliveryCounts.delete(seq);
    if (this.due.length > 0) {
      const dueIndex = this.due.indexOf(seq);
      if (dueIndex >= 0) this.due.splice(dueIndex, 1);
    }
    if (this.pending.size === 0 && this.deadlineTimer) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
      this.deadlineTimerAtMs = Number.POSITIVE_INFINITY;
      this.deadlines.clear();
    }
  }
}

/**
 * One delivery of a stored message. Settling it more than once does nothing. A class rather
 * than an object of closures: a delivery is made per message, on the hot path of every event.
 */
class MemoryBusMessage implements BusMessage {
  private settled = false;

  constructor(
    private readonly durable: DurableState,
    readonly subject: string,
    readonly data: Uint8Array,
    readonly seq: number,
    readonly deliveryCount: number,
  ) {}

  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.durable.settleDelivered(this.seq);
  }

  nak(delayMs = 0): void {
    if (this.settled) return;
    this.settled = true;
    this.durable.scheduleRedelivery(this.seq, delayMs);
  }

  working(): void {
    if (!this.settled) this.durable.extendAckWait(this.seq);
  }

  term(): void {
    this.ack();
  }
}
