import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from 'nats';
import { redeliveryDelayMs, type BusMessage, type Consumer, type ConsumerOptions, type MessageHandler } from './bus.js';
import type { BusLogger } from './bus-logger.js';
import { JETSTREAM_ERROR_CODES, describeError, jetStreamErrorCode } from './nats-errors.js';
import { createWhenAnswered } from './nats-unanswered.js';

/** Defaults documented on `ConsumerOptions`. */
const CONSUMER_DEFAULTS = { ackWaitMs: 30_000, maxDeliver: -1, maxAckPending: 64 } as const;

/**
 * Lifetime of one pull request. Short, so a request left behind by a stopped consumer (whose
 * inbox nobody listens to any more) cannot hold messages for long; heartbeats come at half this.
 */
const PULL_EXPIRES_MS = 10_000;

/** Pause before the pull loop starts again after it ended on its own (consumer gone, error): doubles per failure. */
const RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** What a JetStream consumer needs from the bus that owns it. */
export interface JetStreamConsumerContext {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly logger: BusLogger;
  /** True once the connection is closed for good: the pull loop then ends. */
  isClosed(): boolean;
}

/** The durable pull consumer `options` describe, created or brought up to date. */
export async function ensureJetStreamConsumer(jsm: JetStreamManager, options: ConsumerOptions): Promise<ConsumerInfo> {
  const wanted: Partial<ConsumerConfig> = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs ?? CONSUMER_DEFAULTS.ackWaitMs),
    max_deliver: options.maxDeliver ?? CONSUMER_DEFAULTS.maxDeliver,
    max_ack_pending: options.maxAckPending ?? CONSUMER_DEFAULTS.maxAckPending,
    ...(options.filterSubject === undefined ? {} : { filter_subject: options.filterSubject }),
  };
  let existing: ConsumerInfo;
  try {
    existing = await createWhenAnswered(() => jsm.consumers.info(options.stream, options.durable));
  } catch (err) {
    if (jetStreamErrorCode(err) !== JETSTREAM_ERROR_CODES.consumerNotFound) throw err;
    return createWhenAnswered(() => jsm.consumers.add(options.stream, wanted));
  }
  const current = existing.config;
  const unchanged =
    current.ack_wait === wanted.ack_wait &&
    current.max_deliver === wanted.max_deliver &&
    current.max_ack_pending === wanted.max_ack_pending &&
    (current.filter_subject ?? '') === (wanted.filter_subject ?? '');
  if (unchanged) return existing;
  // The server updates these in place (2.9.10 included, filter subject too); whatever it
  // refuses, e.g. a filter overlapping another consumer of a work-queue stream, is passed on.
  return jsm.consumers.update(options.stream, options.durable, {
    ack_wait: wanted.ack_wait,
    max_deliver: wanted.max_deliver,
    max_ack_pending: wanted.max_ack_pending,
    ...(wanted.filter_subject === undefined ? {} : { filter_subject: wanted.filter_subject }),
  });
}

/**
 * Runs `handler` for the messages of a durable pull consumer, at most `maxAckPending` at a time,
 * until stopped. The pull loop outlives server restarts: the client re-pulls on reconnect, and
 * when the pull ends on its own (consumer or stream gone) the consumer is ensured again and the
 * loop restarts.
 */
export class JetStreamConsumer implements Consumer {
  private readonly maxInFlight: number;
  private readonly waiting: JsMsg[] = [];
  private inFlight = 0;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> = Promise.resolve();
  private wakeLoop: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Pull restarts since a message last came in: drives the restart backoff. */
  private restarts = 0;

  constructor(
    private readonly context: JetStreamConsumerContext,
    private readonly options: ConsumerOptions,
    private readonly handler: MessageHandler,
  ) {
    this.maxInFlight = Math.max(1, options.maxAckPending ?? CONSUMER_DEFAULTS.maxAckPending);
  }

  /** Starts pulling with the consumer `info` describes (already ensured by the caller). */
  start(info: ConsumerInfo): void {
    this.loop = this.pullLoop(info);
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    this.wakeLoop?.();
    this.messages?.stop();
    // Received but never started: hand them back now rather than after the ack wait.
    for (const message of this.waiting.splice(0)) this.settle(message, (m) => m.nak());
    await this.loop;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async pullLoop(firstInfo: ConsumerInfo): Promise<void> {
    const { js, jsm, logger } = this.context;
    const { stream, durable } = this.options;
    let info: ConsumerInfo | undefined = firstInfo;
    while (!this.stopping && !this.context.isClosed()) {
      try {
        info ??= await ensureJetStreamConsumer(jsm, this.options);
        if (this.stopping) break;
        const messages = await js.consumers.getPullConsumerFor(info).consume({
          max_messages: this.maxInFlight,
          expires: PULL_EXPIRES_MS,
          abort_on_missing_resource: true,
          callback: (message) => this.receive(message),
        });
        this.messages = messages;
        if (this.stopping) messages.stop();
        const endedWith = await messages.closed();
        this.messages = undefined;
        if (this.stopping || this.context.isClosed()) break;
        logger.warn({ stream, durable, err: endedWith ? describeError(endedWith) : undefined }, 'bus consumer pull ended; restarting');
      } catch (err) {
        if (this.stopping || this.context.isClosed()) break;
        logger.warn({ stream, durable, err: describeError(err) }, 'bus consumer could not pull; retrying');
      }
      info = undefined;
      await this.pause(Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** this.restarts));
      this.restarts++;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeLoop = done;
    });
  }

  private receive(message: JsMsg): void {
    this.restarts = 0;
    if (this.stopping) {
      this.settle(message, (m) => m.nak());
      return;
    }
    if (this.inFlight >= this.maxInFlight) {
      this.waiting.push(message);
      return;
    }
    void this.run(message);
  }

  private async run(message: JsMsg): Promise<void> {
    this.inFlight++;
    try {
      await this.handle(message);
    } finally {
      this.inFlight--;
      const next = this.stopping ? undefined : this.waiting.shift();
      if (next) void this.run(next);
      else if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Calls the handler with the documented semantics: auto-ack on resolve, backoff nak on throw. */
  private async handle(jsMessage: JsMsg): Promise<void> {
    const message = new NatsBusMessage(jsMessage, this);
    try {
      await this.handler(message);
      message.ack();
    } catch (err) {
      const delayMs = redeliveryDelayMs(message.deliveryCount);
      this.context.logger.warn(
        { stream: this.options.stream, durable: this.options.durable, seq: message.seq, deliveryCount: message.deliveryCount, delayMs, err: describeError(err) },
        'bus handler failed; message will be redelivered',
      );
      message.nak(delayMs);
    }
  }

  /** Sends an ack-protocol reply; a closed connection only costs a redelivery later. */
  settle(message: JsMsg, action: (m: JsMsg) => void): void {
    try {
      action(message);
    } catch (err) {
      this.context.logger.warn(
        { stream: this.options.stream, durable: this.options.durable, seq: message.seq, err: describeError(err) },
        'bus could not acknowledge; message will be redelivered',
      );
    }
  }
}

/**
 * A JetStream delivery as a `BusMessage`: settled once (ack, nak or term), `working()` any
 * number of times before that. A class rather than an object of closures: one is made per
 * message, on the hot path of every event.
 */
class NatsBusMessage implements BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  private settled = false;

  constructor(
    private readonly jsMessage: JsMsg,
    private readonly consumer: { settle(message: JsMsg, action: (m: JsMsg) => void): void },
  ) {
    this.subject = jsMessage.subject;
    this.data = jsMessage.data;
  }

  /** Read from the delivery's reply subject when asked (parsed once, by nats.js): most handlers never ask. */
  get seq(): number {
    return this.jsMessage.seq;
  }

  get deliveryCount(): number {
    return this.jsMessage.info.deliveryCount;
  }

  ack(): void {
    if (this.settleOnce()) this.consumer.settle(this.jsMessage, ackMessage);
  }

  nak(delayMs = 0): void {
    if (this.settleOnce()) this.consumer.settle(this.jsMessage, (m) => m.nak(delayMs > 0 ? delayMs : undefined));
  }

  working(): void {
    if (!this.settled) this.consumer.settle(this.jsMessage, workingMessage);
  }

  term(): void {
    if (this.settleOnce()) this.consumer.settle(this.jsMessage, termMessage);
  }

  /** True the first time only. */
  private settleOnce(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }
}

function ackMessage(message: JsMsg): void {
  message.ack();
}

function workingMessage(message: JsMsg): void {
  message.working();
}

function termMessage(message: JsMsg): void {
  message.term();
}
