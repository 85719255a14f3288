import { createHash } from 'node:crypto';
import type { LiveMetadata } from '@live-upload/schema';
import type { ClipPublishedEvent } from '../publishing/index.js';

/** Event types subscribers can ask for, one table. */
export const OUTBOUND_EVENT_TYPES = {
  liveStatus: 'live.status',
  clipPublished: 'clip.published',
} as const;
export type OutboundEventType = (typeof OUTBOUND_EVENT_TYPES)[keyof typeof OUTBOUND_EVENT_TYPES];
export const OUTBOUND_EVENT_TYPE_LIST = Object.values(OUTBOUND_EVENT_TYPES) as [OutboundEventType, ...OutboundEventType[]];

/** One event ready to fan out: its payload bytes are fixed here and sent unchanged on every attempt. */
export interface OutboundEvent {
  readonly type: OutboundEventType;
  /** `{publisher}/{slug}`: subscribers filter on it. */
  readonly channel: string;
  /** When it happened (ISO 8601): the payload's `timestamp`. */
  readonly timestamp: string;
  /** `msg_` + 32 hex: the same for every subscriber and every attempt (the receiver's idempotency key). */
  readonly webhookId: string;
  /** The exact JSON body `{ type, timestamp, data }`. */
  readonly body: string;
}

/** A stable id for a bus message: the same message always maps to the same webhook id. */
export function webhookIdFor(subject: string, data: Uint8Array): string {
  return `msg_${createHash('sha256').update(subject).update('\n').update(data).digest('hex').slice(0, 32)}`;
}

function build(type: OutboundEventType, channel: string, timestamp: string, data: unknown, webhookId: string): OutboundEvent {
  return { type, channel, timestamp, webhookId, body: JSON.stringify({ type, timestamp, data }) };
}

/** `live.status`: the canonical record as published on `live.status.>`, without the stored raw event. */
export function liveStatusEvent(record: LiveMetadata, webhookId: string): OutboundEvent {
  const { raw_event: _stored, ...data } = record;
  return build(OUTBOUND_EVENT_TYPES.liveStatus, record.channel, record.updated_at, data, webhookId);
}

/** `clip.published`: the event as published on `clips.published.>`. */
export function clipPublishedEvent(event: ClipPublishedEvent, webhookId: string): OutboundEvent {
  return build(OUTBOUND_EVENT_TYPES.clipPublished, event.channel, event.published_at, event, webhookId);
}
