import { createCanonicalId, parseChannelRef, type LiveMetadata, type Playback, type ProviderLinks } from '@live-upload/schema';
import { z } from 'zod';
import {
  CONSUMERS,
  batchHandler,
  redeliveryDelayMs,
  STREAMS,
  SUBJECTS,
  decodeJson,
  encodeJson,
  type Bus,
  type BusMessage,
  type Consumer,
} from '../bus/index.js';
import type { ChannelConfig, ChannelRegistry, LinkedProvider } from '../channels/index.js';
import type { Logger, Metrics, PipelineOutcome } from '../observability/index.js';
import { mapBlueskyEvent, readBlueskyRawEvent } from '../providers/bluesky/index.js';
import { mapTwitchNotification } from '../providers/twitch/index.js';
import { mapYouTubeObservation, readYouTubeRawEvent } from '../providers/youtube/index.js';
import type { CanonicalEvent } from './canonical-event.js';
import { applyChannelConfig, applyEvent, applyTimer, initialChannelState, type ChannelState, type StateContext, type Transition } from './channel-state.js';
import { ChannelStateStore } from './channel-state-store.js';
import { decodeRawEvent, type RawProviderEvent } from './raw-provider-event.js';

export interface LivePipelineOptions {
  readonly bus: Bus;
  readonly channels: ChannelRegistry;
  readonly logger: Logger;
  readonly metrics: Metrics;
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
  /** prom-client hashes the label set on every inc(); the children are bound once. */
  private readonly eventCounters = new Map<string, { inc(): void }>();

  private constructor(
    private readonly options: LivePipelineOptions,
    private readonly states: ChannelStateStore,
  ) {
    this.now = options.now ?? Date.now;
  }

  static async open(options: LivePipelineOptions): Promise<LivePipeline> {
    return new LivePipeline(options, await ChannelStateStore.open(options.bus));
  }

  /** Starts consuming raw events and timers. */
  async start(): Promise<void> {
    const { bus } = this.options;
    this.consumers.push(
      await bus.consume(
        { stream: STREAMS.liveRaw.name, durable: CONSUMERS.pipeline, ackWaitMs: PIPELINE_ACK_WAIT_MS, maxAckPending: 2 * RAW_BATCH_MAX },
        batchHandler((messages) => this.handleRawBatch(messages), { maxBatch: RAW_BATCH_MAX }),
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
    const ref = parseChannelRef(channel);
    const config = ref && (await this.options.channels.get(ref));
    return config && initialChannelState(channel, this.now(), initFromConfig(config)).record;
  }

  /** What a channel that does not exist looks like: offline, never live, `seq` 0. */
  placeholderRecord(channel: string): LiveMetadata {
    return initialChannelState(channel, this.now()).record;
  }

  /** The admin changed a channel: bring its canonical record's links and default title in line. */
  async refreshChannel(channel: string): Promise<void> {
    const ref = parseChannelRef(channel);
    const config = ref && (await this.options.channels.get(ref));
    if (!config) return;
    const result = await this.states.mutate(
      channel,
      async () => initialChannelState(channel, this.now(), initFromConfig(config)),
      (state) => applyChannelConfig(state, initFromConfig(config), this.context(channel)),
    );
    await this.publishOutcome(channel, result);
  }

  /**
   * A batch of raw events, in stream order: each is decoded and mapped; then all of them go to
   * the state store in one go, so each channel's events are applied to one read of its state
   * and written with one compare-and-set (the channel's seen set, which makes a replayed message
   * id a no-op, is part of that state and that write); then each channel's outcomes are
   * published in order. A message whose own step fails is nak'ed alone.
   */
  private async handleRawBatch(messages: readonly BusMessage[]): Promise<void> {
    const findChannel = batchAccountLookup(this.options.channels);
    const prepared = await Promise.all(messages.map((message) => this.prepareRaw(message, findChannel)));
    // Every mutation is issued in this one synchronous pass, in stream order, so the store
    // applies each channel's events of the batch to one read of its state.
    const byChannel = new Map<
      string,
      Array<{ message: BusMessage; provider: string; transition: Promise<{ result: Transition } | { error: unknown }> }>
    >();
    for (const work of prepared) {
      if (!work) continue;
      const event = work.event;
      const transition = this.states
        .mutate(
          event.channel,
          () => this.initialStateFor(event.channel),
          (state) => applyEvent(state, event, this.context(event.channel)),
        )
        .then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
      const entry = { message: work.message, provider: event.provider, transition };
      const list = byChannel.get(event.channel);
      if (list) list.push(entry);
      else byChannel.set(event.channel, [entry]);
    }
    await Promise.all(
      [...byChannel].map(async ([channel, entries]) => {
        for (const { message, provider, transition } of entries) {
          const outcome = await transition;
          try {
            if ('error' in outcome) throw outcome.error;
            if (!outcome.result.applied && message.deliveryCount > 1) {
              // A redelivery after a crash between the state write and the publish: publish again
              // (the status msg id makes this a no-op when it did go out).
              await this.republishCurrent(channel);
            }
            await this.publishOutcome(channel, outcome.result);
            this.countEvent(provider, outcome.result.applied ? 'applied' : 'unchanged');
          } catch (error) {
            this.options.logger.warn({ err: error, channel, seq: message.seq }, 'raw event not applied; redelivering');
            message.nak(redeliveryDelayMs(message.deliveryCount));
          }
        }
      }),
    );
  }

  /**
   * Decodes one raw event and maps it. Undefined when it is poison (terminated) or concerns no
   * linked channel or a type we do not map (acked: nothing to do).
   */
  private async prepareRaw(
    message: BusMessage,
    findChannel: AccountLookup,
  ): Promise<{ message: BusMessage; event: CanonicalEvent } | undefined> {
    let raw: RawProviderEvent;
    try {
      raw = decodeRawEvent(message.data);
    } catch (error) {
      this.options.logger.error({ err: error, seq: message.seq }, 'malformed raw event; dropped');
      this.countEvent('unknown', 'malformed');
      message.term();
      return undefined;
    }
    const event = await this.toCanonicalEvent(raw, findChannel);
    if (!event) {
      this.countEvent(raw.provider, 'ignored');
      return undefined;
    }
    return { message, event };
  }

  private countEvent(provider: string, outcome: PipelineOutcome): void {
    const key = `${provider}\u0000${outcome}`;
    let counter = this.eventCounters.get(key);
    if (!counter) this.eventCounters.set(key, (counter = this.options.metrics.pipelineEvents.labels({ provider, outcome })));
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
    await this.publishOutcome(timer.channel, result);
  }

  /** Maps a raw event to a canonical one; undefined when it is for no linked channel or an unmapped type. */
  private async toCanonicalEvent(raw: RawProviderEvent, findChannel: AccountLookup): Promise<CanonicalEvent | undefined> {
    if (raw.provider === 'youtube') return this.toCanonicalYouTubeEvent(raw, findChannel);
    if (raw.provider === 'bluesky') return this.toCanonicalBlueskyEvent(raw, findChannel);
    if (raw.provider !== 'twitch') return undefined;
    // Only the routing key is read here; the mapper validates the whole event.
    const event = (JSON.parse(raw.body) as { event?: unknown } | null)?.event;
    const broadcaster = typeof event === 'object' && event !== null ? (event as { broadcaster_user_id?: unknown }).broadcaster_user_id : undefined;
    if (typeof broadcaster !== 'string') {
      this.options.logger.info({ message_id: raw.message_id, type: raw.subscription_type }, 'twitch event without broadcaster; ignored');
      return undefined;
    }
    const channel = await findChannel('twitch', broadcaster);
    if (!channel) {
      this.options.logger.info({ message_id: raw.message_id }, 'twitch event for an unlinked broadcaster; ignored');
      return undefined;
    }
    try {
      return mapTwitchNotification({
        channel,
        messageId: raw.message_id,
        messageTimestamp: raw.message_timestamp,
        subscriptionType: raw.subscription_type,
        subscriptionVersion: raw.subscription_version,
        event,
      });
    } catch (error) {
      this.options.logger.warn({ err: error, message_id: raw.message_id }, 'twitch event does not match its documented shape; ignored');
      return undefined;
    }
  }

  /** A YouTube observation, confirmed through the Data API by the provider before it was published. */
  private async toCanonicalYouTubeEvent(raw: RawProviderEvent, findChannel: AccountLookup): Promise<CanonicalEvent | undefined> {
    try {
      const observation = readYouTubeRawEvent(raw);
      const channel = await findChannel('youtube', observation.channel_id);
      if (!channel) {
        this.options.logger.info({ message_id: raw.message_id }, 'youtube observation for an unlinked channel; ignored');
        return undefined;
      }
      return mapYouTubeObservation({ channel, observation });
    } catch (error) {
      this.options.logger.warn({ err: error, message_id: raw.message_id }, 'youtube observation does not match its shape; ignored');
      return undefined;
    }
  }

  /** A Jetstream commit of a linked account: an unverified discovery hint (provenance, never LIVE alone). */
  private async toCanonicalBlueskyEvent(raw: RawProviderEvent, findChannel: AccountLookup): Promise<CanonicalEvent | undefined> {
    try {
      const event = readBlueskyRawEvent(raw);
      const channel = await findChannel('bluesky', event.did);
      const ref = channel === undefined ? undefined : parseChannelRef(channel);
      const config = ref && (await this.options.channels.get(ref));
      if (!channel || !config) {
        this.options.logger.info({ message_id: raw.message_id }, 'bluesky event for an unlinked account; ignored');
        return undefined;
      }
      const { twitch, youtube } = config.providers;
      return mapBlueskyEvent({
        channel,
        messageId: raw.message_id,
        event,
        links: { ...(twitch ? { twitchLogin: twitch.login } : {}), ...(youtube ? { youtubeChannelId: youtube.channel_id } : {}) },
      });
    } catch (error) {
      this.options.logger.warn({ err: error, message_id: raw.message_id }, 'bluesky event does not match its shape; ignored');
      return undefined;
    }
  }

  private async publishOutcome(channel: string, result: Transition): Promise<void> {
    const ref = parseChannelRef(channel);
    if (!ref) return;
    if (result.emit) {
      const stopTimer = this.options.metrics.publishLatency.startTimer({ stream: STREAMS.liveStatus.name });
      await this.options.bus.publish(SUBJECTS.liveStatus(ref), encodeJson(result.emit), { msgId: statusMsgId(result.emit) });
      stopTimer();
      this.options.metrics.statusEmits.inc({ transition: result.emit.status });
    }
    if (result.wakeAtMs !== null && this.scheduledWakes.get(channel) !== result.wakeAtMs) {
      await this.options.bus.publish(
        SUBJECTS.liveTimer(ref),
        encodeJson({ channel, wake_at_ms: result.wakeAtMs }),
        { msgId: `timer:${channel}:${result.wakeAtMs}` },
      );
      this.scheduledWakes.set(channel, result.wakeAtMs);
    }
  }

  private async republishCurrent(channel: string): Promise<void> {
    const state = await this.states.get(channel);
    const ref = parseChannelRef(channel);
    if (!state || !ref || state.record.seq === 0) return;
    await this.options.bus.publish(SUBJECTS.liveStatus(ref), encodeJson(state.record), { msgId: statusMsgId(state.record) });
  }

  private async initialStateFor(channel: string): Promise<ChannelState> {
    const ref = parseChannelRef(channel);
    const config = ref && (await this.options.channels.get(ref));
    return initialChannelState(channel, this.now(), config ? initFromConfig(config) : {});
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

/** Which channel a provider account is linked to. */
type AccountLookup = (provider: LinkedProvider, accountId: string) => Promise<string | undefined>;

/** Looks each account up once per batch: a burst from one broadcaster costs one registry read, not one per event. */
function batchAccountLookup(channels: ChannelRegistry): AccountLookup {
  const found = new Map<string, Promise<string | undefined>>();
  return (provider, accountId) => {
    const key = `${provider}\u0000${accountId}`;
    let channel = found.get(key);
    if (!channel) found.set(key, (channel = channels.findByAccount(provider, accountId)));
    return channel;
  };
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
