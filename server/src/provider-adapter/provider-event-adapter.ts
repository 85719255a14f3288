import type { ProviderName } from '@live-upload/schema';
import type { ChannelConfig, LinkedProvider } from '../channels/index.js';
import type { CanonicalEvent } from './canonical-event.js';
import type { RawProviderEvent } from './raw-provider-event.js';

/**
 * What the pipeline knows of one provider: which linked account a raw event concerns, and the
 * canonical event it means once that account's channel is known. Pure and synchronous: the
 * pipeline reads a whole batch, looks each account up once, then maps.
 *
 * `Payload` is what `read` parsed out of the raw body; the pipeline hands it back to
 * `accountOf` and `map`, so a body is parsed once.
 */
export type ProviderEventAdapter<Payload = unknown> = LinkedAccountEventAdapter<Payload> | ChannelAccountEventAdapter<Payload>;

/** A provider whose accounts are linked to channels (Twitch, YouTube, Bluesky): the channel is found by the link. */
export interface LinkedAccountEventAdapter<Payload = unknown> extends EventAdapterBase<Payload> {
  /** The `provider` of the raw events this adapter reads (one adapter per provider). */
  readonly provider: LinkedProvider;
  readonly accountIsChannel?: false;
}

/**
 * A provider with no account of its own: our origin (issue 23), where the channel itself goes
 * live. `accountOf` names the channel (`{publisher}/{slug}`); the pipeline maps the event when
 * that channel is configured, with no link record to look up.
 */
export interface ChannelAccountEventAdapter<Payload = unknown> extends EventAdapterBase<Payload> {
  readonly provider: Exclude<ProviderName, LinkedProvider>;
  readonly accountIsChannel: true;
}

interface EventAdapterBase<Payload> {
  /** Whether `map` reads the channel's config (its other links); the pipeline looks it up only then. */
  readonly needsChannelConfig: boolean;
  /** Parses the raw event's body. Throws when it cannot be read: the event is ignored, never retried. */
  read(raw: RawProviderEvent): Payload;
  /** The provider account id the event concerns (what the channel is found by); undefined when it names none. */
  accountOf(payload: Payload): string | undefined;
  /**
   * The canonical event for `channel` (`{publisher}/{slug}`); `config` is the channel's config
   * when `needsChannelConfig`. Undefined for an event type not mapped; throws when the payload
   * does not match its documented shape.
   */
  map(raw: RawProviderEvent, payload: Payload, channel: string, config: ChannelConfig | undefined): CanonicalEvent | undefined;
}
