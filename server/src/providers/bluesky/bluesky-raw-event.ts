import { createHash } from 'node:crypto';
import type { RawProviderEvent } from '../../provider-adapter/index.js';
import { jetstreamCommitEventSchema, type JetstreamCommitEvent } from './jetstream-event.js';

export const BLUESKY_RAW_MESSAGE_TYPE = 'jetstream.commit';
/** The raw envelope's `message_id` limit. */
const MAX_MESSAGE_ID_LENGTH = 256;

/**
 * The idempotency key of a commit: DID, collection, record key and repo revision. A replay of
 * the same commit (reconnect with a rewound cursor) has the same key, so the bus drops it.
 * Keys longer than the envelope allows become a hash of the same parts.
 */
export function blueskyMessageId(event: JetstreamCommitEvent): string {
  const id = `${event.did}|${event.commit.collection}|${event.commit.rkey}|${event.commit.rev}`;
  return id.length <= MAX_MESSAGE_ID_LENGTH ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

/** The raw event published on `live.raw.bluesky`: the frame's text exactly as received. */
export function toBlueskyRawEvent(frame: string, event: JetstreamCommitEvent, receivedAtMs: number): RawProviderEvent {
  return {
    provider: 'bluesky',
    message_id: blueskyMessageId(event),
    message_type: BLUESKY_RAW_MESSAGE_TYPE,
    subscription_type: event.commit.collection,
    subscription_version: event.commit.operation,
    message_timestamp: new Date(Math.floor(event.time_us / 1000)).toISOString(),
    received_at: new Date(receivedAtMs).toISOString(),
    body: frame,
  };
}

/** The commit carried by a raw Bluesky event; throws when the body is not one. */
export function readBlueskyRawEvent(raw: RawProviderEvent): JetstreamCommitEvent {
  if (raw.provider !== 'bluesky' || raw.message_type !== BLUESKY_RAW_MESSAGE_TYPE) throw new TypeError(`not a raw Bluesky commit: ${raw.message_type}`);
  return jetstreamCommitEventSchema.parse(JSON.parse(raw.body));
}
