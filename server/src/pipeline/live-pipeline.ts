import { setTimeout as sleep } from 'node:timers/promises';
import { createCanonicalId, parseChannelRef, type LiveMetadata, type Playback, type ProviderLinks, type ProviderName } from '@live-upload/schema';
import { z } from 'zod';
import {
  CONSUMERS,
  batchHandler,
  BusUnavailableError,
  redeliveryDelayMs,
  STREAMS,
  SUBJECTS,
  decodeJson,
  encodeJson,
  type Bus,
  type BusMessage,
  type Consumer,
  type KvConflictCounter,
} from '../bus/index.js';
import type { ChannelConfig, ChannelRegistry } from '../channels/index.js';
import type { CounterChild, Logger, Metrics, PipelineOutcome } from '../observability/index.js';
import { decodeRawEvent, type CanonicalEvent, type ProviderEventAdapter, type RawProviderEvent } from '../provider-adapter/index.js';
import { applyChannelConfig, applyEvent, applyTimer, initialChannelState, type ChannelState, type StateContext, type Transition } from './channel-state.js';
import { ChannelStateStore, type TransitionOutcome } from './channel-state-store.js';

export interface LivePipelineOptions {
  readonly bus: Bus;
  readonly channels: ChannelRegistry;
  readonly logger: Logger;
  /** Counts the channel-state writes lost to another replica (`live_upload_kv_conflicts_total`). */
  readonly conflicts?: KvConflictCounter;
  readonly metrics: Metrics;
  /** One per provider whose raw events are mapped; a raw event of any other provider is ignored. */
  readonly adapters: readonly ProviderEventAdapter[];
  readonly graceWindowMs: number;
  readonly coalesceMs: number;
  readonly now?: () => number;
  /** How long a channel remembers an applied provider message id (behind the stream's dup window; default a day). */
  readonly seenTtlMs?: number;
}

/**
 * Handling one message takes milliseconds; a worker that died holding one (crash, bus outage
 * mid-handling) gets it redelivered after this, so a status is late by seconds, not minutes.
 */
const PIPELINE_ACK_WAIT_MS = 5_000;

/** Raw events per batch at most; the consumer keeps twice this in flight so the next batch fills meanwhile. */
const RAW_BATCH_MAX = 128;
/**
 * Under a burst a batch waits up to this many more event-loop turns to fill (while events keep
 * coming; never at a trickle): a channel's state is then read, encoded and written once for
 * several turns' worth of webhooks instead of once per turn.
 */
const RAW_BATCH_LINGER_TURNS = 3;

/**
 * A message that changes nothing republishes the channel's current status when its last emit is
 * younger than this: LIVE_STATUS drops a repeated msg id for two minutes (its duplicate window),
 * so inside this the republish is a no-op when the status did go out, and the repair when it did
 * not. A redelivery's count cannot say whether an earlier delivery ran: after a JetStream
 * consumer's leader changes, a message the old leader delivered can come again as a first
 * delivery. The margin covers replicas' clocks and the time a redelivery takes.
 */
const REPUBLISH_WITHIN_MS = STREAMS.liveStatus.duplicateWindowMs - 30_000;

/**
 * Pauses before a delivery tries again a publish (status or wake-up) that failed after its state
 * write, before it gives the message up to a nak. The state is stored by then: the channel reads
 * LIVE (the API) while LIVE_STATUS, and so every SSE viewer and outbound webhook, has nothing
 * until the publish succeeds. A nak'ed message comes back late in the very failures that cause
 * this: a nak sent while the connection is down is lost with it (the server then waits out the
 * ack wait), and after a JetStream node dies the consumer delivers again only once its leader is
 * elected and the pulls are re-established. In the fleet test that SIGKILLs the LIVE_RAW leader,
 * channels stayed LIVE without a status for 10-15 s that way; most publishes succeed again
 * within a second or two (the client has reconnected to another node, the stream's leader is
 * elected).
 */
const PUBLISH_RETRY_DELAYS_MS = [100, 200, 400, 800, 1_600] as const;
/**
 * Retries end this long after the first failure, inside the ack wait: the batch handler tells
 * the bus every message of a raw batch (and those queued behind it) is still being worked on
 * while it runs, and this bound keeps a batch from holding them much longer than that. A timer
 * is consumed one message at a time, with no batch handler: `publishAfterStateWrite`'s own
 * `working()` before each pause is what keeps it from its ack wait.
 */
const PUBLISH_RETRY_WITHIN_MS = PIPELINE_ACK_WAIT_MS - 1_500;

const timerMessageSchema = z.object({ channel: z.string(), wake_at_ms: z.number() });


/**
 * The consumers between the bus streams and the channel state: raw provider events are
 * mapped to canonical events and applied to the channel's state machine; status changes go
 * out on `live.status.{publisher}.{slug}`; grace and coalescing deadlines are durable timer
 * messages that come back (nak with delay) when due. Stateless itself: any number of
 * processes can run it against one NATS.
 */
export class LivePipeline {
  private readonly consumers: Consumer[] = [];
  private readonly now: () => number;
  /**
   * The last wake-up time this process scheduled per channel. Every event inside a coalescing
   * window asks for the same wake-up; the bus would drop the repeats by msg id, but encoding
   * and publishing each one cost more than the event itself.
   */
  private readonly scheduledWakes = new Map<string, number>();
  /** Per provider, per outcome: no key is built per event. */
  private readonly eventCounters = new Map<string, Map<PipelineOutcome, CounterChild>>();

  private constructor(
    private readonly options: LivePipelineOptions,
    private readonly states: ChannelStateStore,
  ) {
    this.now = options.now ?? Date.now;
    const providers = options.adapters.map((adapter) => adapter.provider);
    const repeated = providers.find((provider, index) => providers.indexOf(provider) !== index);
    if (repeated !== undefined) throw new RangeError(`two event adapters for provider ${repeated}`);
  }

  static async open(options: LivePipelineOptions): Promise<LivePipeline> {
    return new LivePipeline(options, await ChannelStateStore.open(options.bus, options.conflicts ? { conflicts: options.conflicts } : {}));
  }

  /** Starts consuming raw events and timers. */
  async start(): Promise<void> {
    const { bus } = this.options;
    this.consumers.push(
      await bus.consume(
        { stream: STREAMS.liveRaw.name, durable: CONSUMERS.pipeline, ackWaitMs: PIPELINE_ACK_WAIT_MS, maxAckPending: 2 * RAW_BATCH_MAX },
        batchHandler((messages) => this.handleRawBatch(messages), { maxBatch: RAW_BATCH_MAX, lingerTurns: RAW_BATCH_LINGER_TURNS, keepAliveMs: PIPELINE_ACK_WAIT_MS / 3 }),
      ),
      await bus.consume(
        { stream: STREAMS.liveTimers.name, durable: CONSUMERS.timers, ackWaitMs: PIPELINE_ACK_WAIT_MS, maxAckPending: 100_000 },
        (message) => this.handleTimer(message),
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((consumer) => consumer.stop()));
  }

  /** The canonical record of a channel, or undefined when no such channel is configured. */
  async readRecord(channel: string): Promise<LiveMetadata | undefined> {
    const state = await this.states.get(channel);
    if (state) return state.record;
    const config = await this.configOf(channel);
    return config && initialChannelState(channel, this.now(), initFromConfig(config)).record;
  }

  /** What a channel that does not exist looks like: offline, never live, `seq` 0. */
  placeholderRecord(channel: string): LiveMetadata {
    return initialChannelState(channel, this.now()).record;
  }

  /** The admin changed a channel: bring its canonical record's links and default title in line. */
  async refreshChannel(channel: string): Promise<void> {
    const config = await this.configOf(channel);
    if (!config) return;
    const result = await this.states.mutate(
      channel,
      async () => initialChannelState(channel, this.now(), initFromConfig(config)),
      (state) => applyChannelConfig(state, initFromConfig(config), this.context(channel)),
    );
    await this.publishOutcome(channel, result);
  }

  /**
   * A batch of raw events, in stream order, in three steps: each is decoded and routed to the
   * provider account it concerns (synchronously); each account is looked up once for the whole
   * batch; then each channel's events are applied in order to one read of its state and stored
   * with one compare-and-set (the channel's seen set, which makes a replayed message id a no-op,
   * is part of that state and that write), and its outcomes published in order. A message whose
   * own step fails is nak'ed alone; one that concerns nothing we map is acked.
   *
   * Per event this awaits nothing unless it has something to publish: a burst of title updates
   * inside the coalescing window costs the pure steps and one shared write, not a chain of
   * promises per event.
   */
  private async handleRawBatch(messages: readonly BusMessage[]): Promise<void> {
    const routed: RoutedRawEvent[] = [];
    for (const message of messages) {
      const route = this.routeRaw(message);
      if (route) routed.push(route);
    }
    const accounts = await this.lookUpAccounts(routed);
    const byChannel = new Map<string, Array<{ readonly message: BusMessage; readonly event: CanonicalEvent }>>();
    for (const route of routed) {
      const event = this.mapRouted(route, accounts.get(accountKey(route.adapter.provider, route.accountId)));
      if (!event) continue;
      const work = { message: route.message, event };
      const list = byChannel.get(event.channel);
      if (list) list.push(work);
      else byChannel.set(event.channel, [work]);
    }
    await Promise.all([...byChannel].map(([channel, work]) => this.applyToChannel(channel, work)));
  }

  /** Applies one channel's events of a batch, in order, with one store write; then publishes each outcome. */
  private async applyToChannel(channel: string, work: ReadonlyArray<{ readonly message: BusMessage; readonly event: CanonicalEvent }>): Promise<void> {
    let outcomes: TransitionOutcome[];
    try {
      const ctx = this.context(channel);
      outcomes = await this.states.mutateInOrder(
        channel,
        () => this.initialStateFor(channel),
        work.map(({ event }) => (state: ChannelState) => applyEvent(state, event, ctx)),
      );
    } catch (error) {
      outcomes = work.map(() => ({ error }));
    }
    for (const [index, { message, event }] of work.entries()) {
      const outcome = outcomes[index]!;
      try {
        if ('error' in outcome) throw outcome.error;
        const result = outcome.ok;
        // Maybe a redelivery after a crash or a bus failure between the state write and the publish.
        if (!result.applied && this.mayNotHaveGoneOut(result.state, message)) await this.republish(result.state, message);
        if (this.hasOutcomeToPublish(channel, result)) await this.publishOutcome(channel, result, message);
        this.countEvent(event.provider, result.applied ? 'applied' : 'unchanged');
      } catch (error) {
        this.options.logger.warn({ err: error, channel, seq: message.seq }, 'raw event not applied; redelivering');
        message.nak(redeliveryDelayMs(message.deliveryCount));
      }
    }
  }

  /**
   * Decodes one raw event and reads which linked account it concerns. Undefined when it is
   * poison (terminated) or names no account or cannot be read (acked: nothing to do).
   */
  private routeRaw(message: BusMessage): RoutedRawEvent | undefined {
    let raw: RawProviderEvent;
    try {
      raw = decodeRawEvent(message.data);
    } catch (error) {
      this.options.logger.error({ err: error, seq: message.seq }, 'malformed raw event; dropped');
      this.countEvent('unknown', 'malformed');
      message.term();
      return undefined;
    }
    let route: RoutedRawEvent | undefined;
    try {
      route = this.readRoute(message, raw);
      if (!route) this.options.logger.info({ message_id: raw.message_id, provider: raw.provider, type: raw.subscription_type }, 'raw event names no account; ignored');
    } catch (error) {
      this.options.logger.warn({ err: error, message_id: raw.message_id, provider: raw.provider }, 'raw event does not match its shape; ignored');
    }
    if (!route) {
      this.countEvent(raw.provider, 'ignored');
      return undefined;
    }
    return route;
  }

  /**
   * Which account a raw event concerns, read by its provider's adapter without I/O. Undefined
   * for an event that names none (or of a provider without an adapter); throws when the body
   * cannot be read.
   */
  private readRoute(message: BusMessage, raw: RawProviderEvent): RoutedRawEvent | undefined {
    // A scan, not a map: a handful of adapters, compared as a switch would.
    for (const adapter of this.options.adapters) {
      if (adapter.provider !== raw.provider) continue;
      const payload = adapter.read(raw);
      const accountId = adapter.accountOf(payload);
      return accountId === undefined ? undefined : { message, raw, adapter, accountId, payload };
    }
    return undefined;
  }

  /** Each account of the batch looked up once: its channel, and the channel's config where a mapping needs it. */
  private async lookUpAccounts(routed: readonly RoutedRawEvent[]): Promise<Map<string, AccountMatch>> {
    const wanted = new Map<string, { adapter: ProviderEventAdapter; accountId: string; needsConfig: boolean }>();
    for (const { adapter, accountId } of routed) {
      const key = accountKey(adapter.provider, accountId);
      const entry = wanted.get(key);
      if (entry) entry.needsConfig ||= adapter.needsChannelConfig;
      else wanted.set(key, { adapter, accountId, needsConfig: adapter.needsChannelConfig });
    }
    const { channels } = this.options;
    const found = await Promise.all(
      [...wanted].map(async ([key, { adapter, accountId, needsConfig }]): Promise<[string, AccountMatch]> => {
        if (adapter.accountIsChannel) {
          // Our origin: the account is the channel; it is mapped when the channel is configured.
          const ref = parseChannelRef(accountId);
          const config = ref ? await channels.get(ref) : undefined;
          return [key, { channel: config ? accountId : undefined, config }];
        }
        const channel = await channels.findByAccount(adapter.provider, accountId);
        const ref = needsConfig && channel !== undefined ? parseChannelRef(channel) : undefined;
        return [key, { channel, config: ref ? await channels.get(ref) : undefined }];
      }),
    );
    return new Map(found);
  }

  /** The canonical event of a routed raw event; undefined (counted as ignored) when it maps to nothing. */
  private mapRouted(route: RoutedRawEvent, match: AccountMatch | undefined): CanonicalEvent | undefined {
    const { raw, adapter } = route;
    let event: CanonicalEvent | undefined;
    if (!match?.channel || (adapter.needsChannelConfig && !match.config)) {
      this.options.logger.info({ message_id: raw.message_id, provider: raw.provider }, 'event for an unlinked account; ignored');
    } else {
      try {
        event = adapter.map(raw, route.payload, match.channel, match.config);
      } catch (error) {
        this.options.logger.warn({ err: error, message_id: raw.message_id, provider: raw.provider }, 'event does not match its documented shape; ignored');
      }
    }
    if (!event) this.countEvent(raw.provider, 'ignored');
    return event;
  }

  private countEvent(provider: string, outcome: PipelineOutcome): void {
    let byOutcome = this.eventCounters.get(provider);
    if (!byOutcome) this.eventCounters.set(provider, (byOutcome = new Map()));
    let counter = byOutcome.get(outcome);
    if (!counter) byOutcome.set(outcome, (counter = this.options.metrics.summed.pipelineEvents.child({ provider, outcome })));
    counter.inc();
  }

  private async handleTimer(message: BusMessage): Promise<void> {
    const timer = decodeJson(message.data, timerMessageSchema);
    const remainingMs = timer.wake_at_ms - this.now();
    if (remainingMs > 0) {
      message.nak(remainingMs);
      return;
    }
    if (!(await this.states.get(timer.channel))) return;
    const result = await this.states.mutate(
      timer.channel,
      () => this.initialStateFor(timer.channel),
      (current) => applyTimer(current, this.context(timer.channel)),
    );
    // A no-op timer may be the redelivery of one whose state write committed a coalesced or
    // grace-window emit and whose publish failed (a stream electing its leader).
    if (!result.emit && this.mayNotHaveGoneOut(result.state, message)) await this.republish(result.state, message);
    await this.publishOutcome(timer.channel, result, message);
  }

  /** Whether `publishOutcome` has anything to send: a status, or a wake-up not yet scheduled. */
  private hasOutcomeToPublish(channel: string, result: Transition): boolean {
    return result.emit !== null || (result.wakeAtMs !== null && this.scheduledWakes.get(channel) !== result.wakeAtMs);
  }

  /** `delivery`: the message whose handling stored `result`; its publishes are retried (`publishAfterStateWrite`). */
  private async publishOutcome(channel: string, result: Transition, delivery?: BusMessage): Promise<void> {
    const ref = parseChannelRef(channel);
    if (!ref) return;
    if (result.emit) {
      const stopTimer = this.options.metrics.publishLatency.startTimer({ stream: STREAMS.liveStatus.name });
      await this.publishAfterStateWrite(delivery, SUBJECTS.liveStatus(ref), encodeJson(result.emit), statusMsgId(result.emit));
      stopTimer();
      this.options.metrics.statusEmits.inc({ transition: result.emit.status });
    }
    if (result.wakeAtMs !== null && this.scheduledWakes.get(channel) !== result.wakeAtMs) {
      await this.publishAfterStateWrite(delivery, SUBJECTS.liveTimer(ref), encodeJson({ channel, wake_at_ms: result.wakeAtMs }), `timer:${channel}:${result.wakeAtMs}`);
      this.scheduledWakes.set(channel, result.wakeAtMs);
    }
  }

  /**
   * A publish that follows a state write. For a delivery, one that fails because the bus is
   * unavailable is tried again after each of `PUBLISH_RETRY_DELAYS_MS` (the delivery told it is
   * still being worked on) within `PUBLISH_RETRY_WITHIN_MS`, so the status goes out as soon as
   * the bus is back rather than when the message is redelivered; then the failure is thrown (the
   * message is nak'ed and repaired on redelivery, as before). Its msg id makes a retry of a
   * publish that did land (an ack lost on the way) a duplicate. Without a delivery (an admin
   * change, answered to the admin) it is tried once.
   */
  private async publishAfterStateWrite(delivery: BusMessage | undefined, subject: string, data: Uint8Array, msgId: string): Promise<void> {
    const firstTryAt = performance.now();
    for (const delayMs of delivery ? PUBLISH_RETRY_DELAYS_MS : []) {
      try {
        await this.options.bus.publish(subject, data, { msgId });
        return;
      } catch (error) {
        if (!(error instanceof BusUnavailableError) || performance.now() - firstTryAt + delayMs > PUBLISH_RETRY_WITHIN_MS) throw error;
        this.options.logger.debug({ err: error, subject, msgId, retryInMs: delayMs }, 'publish after a state write failed; retrying');
        // For a timer delivery (no batch handler, so no keep-alive) this is its only one; a raw
        // batch's keep-alive says the same, and one more `working()` costs nothing.
        delivery?.working();
        await sleep(delayMs);
      }
    }
    await this.options.bus.publish(subject, data, { msgId });
  }

  /**
   * Whether the status last emitted for this state may be missing from LIVE_STATUS because the
   * delivery that emitted it failed after its state write: the message was delivered before, or
   * the emit is recent enough that a repeat is dropped by msg id (`REPUBLISH_WITHIN_MS`).
   */
  private mayNotHaveGoneOut(state: ChannelState, message: BusMessage): boolean {
    if (state.record.seq === 0) return false;
    return message.deliveryCount > 1 || (state.lastEmitAtMs !== null && this.now() - state.lastEmitAtMs < REPUBLISH_WITHIN_MS);
  }

  /** Publishes the state's current record again (its msg id makes this a no-op when it did go out). */
  private async republish(state: ChannelState, delivery: BusMessage): Promise<void> {
    const ref = parseChannelRef(state.record.channel);
    if (!ref) return;
    await this.publishAfterStateWrite(delivery, SUBJECTS.liveStatus(ref), encodeJson(state.record), statusMsgId(state.record));
  }

  private async initialStateFor(channel: string): Promise<ChannelState> {
    const config = await this.configOf(channel);
    return initialChannelState(channel, this.now(), config ? initFromConfig(config) : {});
  }

  /** The admin config of a channel; undefined when there is none (or `channel` is not a channel ref). */
  private async configOf(channel: string): Promise<ChannelConfig | undefined> {
    const ref = parseChannelRef(channel);
    return ref ? this.options.channels.get(ref) : undefined;
  }

  private context(channel: string): StateContext {
    const ref = parseChannelRef(channel);
    if (!ref) throw new RangeError(`not a channel: ${channel}`);
    return {
      nowMs: this.now(),
      graceWindowMs: this.options.graceWindowMs,
      coalesceMs: this.options.coalesceMs,
      newCanonicalId: (startedAtMs) => createCanonicalId(ref, startedAtMs),
      ...(this.options.seenTtlMs === undefined ? {} : { seenTtlMs: this.options.seenTtlMs }),
    };
  }
}

/**
 * A raw event, the adapter of its provider, the linked account it concerns, and what the adapter
 * parsed of its body; the channel (and, where the adapter needs it, the channel's config) comes
 * from the account. Plain data: no closure is made per event.
 */
interface RoutedRawEvent {
  readonly message: BusMessage;
  readonly raw: RawProviderEvent;
  readonly adapter: ProviderEventAdapter;
  readonly accountId: string;
  readonly payload: unknown;
}

interface AccountMatch {
  readonly channel: string | undefined;
  readonly config: ChannelConfig | undefined;
}

function accountKey(provider: ProviderName, accountId: string): string {
  return `${provider}\u0000${accountId}`;
}

function statusMsgId(record: LiveMetadata): string {
  return `status:${record.channel}:${record.seq}`;
}

/** The channel's admin config as the state machine's initial record fields. */
function initFromConfig(config: ChannelConfig): { title: string | null; providers: ProviderLinks; playback: Playback | null } {
  const { twitch, youtube, bluesky } = config.providers;
  const providers: ProviderLinks = {};
  if (twitch) providers.twitch = { id: null, user_id: twitch.user_id, login: twitch.login, url: `https://www.twitch.tv/${twitch.login}` };
  if (youtube) providers.youtube = { id: null, channel_id: youtube.channel_id, url: `https://www.youtube.com/channel/${youtube.channel_id}` };
  if (bluesky) providers.bluesky = { did: bluesky.did, post_uri: null };
  return { title: config.title, providers, playback: config.playback };
}
