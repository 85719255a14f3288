import type { Playback, ProviderName } from '@live-upload/schema';

/**
 * One provider signal, normalized: what the state machine consumes. Produced by a provider's
 * pure mapper from the raw event, after the channel was looked up from the provider link.
 */
export interface CanonicalEvent {
  readonly kind: 'online' | 'offline' | 'update';
  /** `{publisher}/{slug}`. */
  readonly channel: string;
  readonly provider: ProviderName;
  /** The provider's message id: the idempotency key. */
  readonly eventId: string;
  /** The provider's own time for this event (ms since epoch): the ordering key. */
  readonly eventTimeMs: number;
  /** Signed by the provider and verified (Twitch, YouTube confirmed by the API); discovery hints are not. */
  readonly verified: boolean;
  /** Provider stream / broadcast id, when the event names one. */
  readonly providerStreamId?: string;
  /** Fields this event sets. Absent = unchanged. */
  readonly fields: CanonicalEventFields;
}

export interface CanonicalEventFields {
  readonly title?: string | null;
  readonly viewer_count?: number | null;
  readonly tags?: readonly string[];
  readonly started_at?: string;
  /** Category / game name, kept as a tag-like field. */
  readonly category?: string | null;
  /**
   * Where viewers watch this broadcast, for a provider that serves it itself (our origin's
   * master playlist). Set by a verified online; the channel's configured player comes back
   * when the broadcast ends.
   */
  readonly playback?: Playback;
}
