import { createHash } from 'node:crypto';
import { z } from 'zod';
import { OUTBOUND_EVENT_TYPE_LIST } from './outbound-event.js';

/** Delivery ids: `dlv_` + 32 hex (derived from event and subscriber) or a ULID (a replay). */
export const DELIVERY_ID_PATTERN = /^dlv_(?:[0-9a-f]{32}|[0-9A-HJKMNP-TV-Z]{26})$/;

/** The first delivery of an event to a subscriber has a derived id, so a re-fanned event is a duplicate on the bus. */
export function deliveryIdFor(webhookId: string, subscriberId: string): string {
  return `dlv_${createHash('sha256').update(`${webhookId}\n${subscriberId}`).digest('hex').slice(0, 32)}`;
}

/** A job on `outbound.deliveries.{subscriber id}`: everything needed to send, nothing secret. */
export const deliveryJobSchema = z.object({
  delivery_id: z.string().regex(DELIVERY_ID_PATTERN),
  webhook_id: z.string(),
  subscriber_id: z.string(),
  event_type: z.enum(OUTBOUND_EVENT_TYPE_LIST),
  channel: z.string(),
  body: z.string(),
  created_at: z.string(),
  /** Set on a replay: the delivery it re-sends. */
  replay_of: z.string().nullable(),
});
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Why a delivery was dead-lettered, one table. */
export const DEAD_LETTER_REASONS = {
  retriesExhausted: 'retries_exhausted',
  /** The receiver answered 410 Gone: the subscriber was disabled. */
  gone: 'gone',
  /** The URL resolves to a refused address range. */
  addressRefused: 'address_refused',
  /** The subscriber was disabled or deleted before the delivery went out. */
  subscriberDisabled: 'subscriber_disabled',
  /** The subscriber's URL is no longer one we call (e.g. http in production). */
  urlRefused: 'url_refused',
} as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[keyof typeof DEAD_LETTER_REASONS];

/** The visible state of one delivery (KV `outbound-deliveries`, and `outbound-dead-letters` once dead). */
export const deliveryRecordSchema = deliveryJobSchema.extend({
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int().min(0),
  last_attempt_at: z.string().nullable(),
  /** HTTP status of the last attempt, or null when it got no response. */
  last_response_status: z.number().int().nullable(),
  /** `connect_timeout`, `timeout`, `connection`, `http_500`, ... */
  last_error: z.string().nullable(),
  /** When the next attempt is due (retrying only). */
  next_attempt_at: z.string().nullable(),
  dead_reason: z.enum(Object.values(DEAD_LETTER_REASONS) as [DeadLetterReason, ...DeadLetterReason[]]).nullable(),
  updated_at: z.string(),
  /** Replays made of this delivery (newest last). */
  replayed_as: z.array(z.string()).default([]),
});
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;

/**
 * A job's record before any attempt. Written field by field: a spread of the parsed job gave a
 * record slow to build and to stringify (in a profile of the outbound bench, 1.7% of the
 * process's busy time in this function alone, and its record's `encodeJson` four times the
 * job's).
 */
export function pendingRecord(job: DeliveryJob): DeliveryRecord {
  return {
    delivery_id: job.delivery_id,
    webhook_id: job.webhook_id,
    subscriber_id: job.subscriber_id,
    event_type: job.event_type,
    channel: job.channel,
    body: job.body,
    created_at: job.created_at,
    replay_of: job.replay_of,
    status: 'pending',
    attempts: 0,
    last_attempt_at: null,
    last_response_status: null,
    last_error: null,
    next_attempt_at: null,
    dead_reason: null,
    updated_at: job.created_at,
    replayed_as: [],
  };
}


/** What one attempt changes in a delivery's record. */
export interface AttemptFields {
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly last_attempt_at: string;
  readonly last_response_status: number | null;
  readonly last_error: string | null;
  readonly next_attempt_at: string | null;
}

/**
 * The record after an attempt (updated then), written field by field in the order of
 * `pendingRecord` for the same reason: one object of one shape per attempt rather than two spreads.
 */
export function attemptedRecord(record: DeliveryRecord, attempt: AttemptFields): DeliveryRecord {
  return {
    delivery_id: record.delivery_id,
    webhook_id: record.webhook_id,
    subscriber_id: record.subscriber_id,
    event_type: record.event_type,
    channel: record.channel,
    body: record.body,
    created_at: record.created_at,
    replay_of: record.replay_of,
    status: attempt.status,
    attempts: attempt.attempts,
    last_attempt_at: attempt.last_attempt_at,
    last_response_status: attempt.last_response_status,
    last_error: attempt.last_error,
    next_attempt_at: attempt.next_attempt_at,
    dead_reason: record.dead_reason,
    updated_at: attempt.last_attempt_at,
    replayed_as: record.replayed_as,
  };
}

/**
 * A record's JSON written over its job's own JSON (the bytes the job came in, as text): the
 * job's fields (the body above all, a JSON text whose every quote is escaped) are not encoded
 * again on every attempt. Only for a record made from that job alone (`pendingRecord`, then
 * `attemptedRecord`): its job fields are the job's. Reads back as `record` (a key the job's JSON
 * had beyond the job's is dropped by the schema; the record's own keys come last and win).
 */
export function encodeRecordOverJob(jobJson: string, record: DeliveryRecord): Uint8Array {
  const end = jobJson.lastIndexOf('}');
  if (end < 0) throw new SyntaxError('a delivery job is a JSON object');
  const json =
    `${jobJson.slice(0, end)},"status":${JSON.stringify(record.status)},"attempts":${record.attempts}` +
    `,"last_attempt_at":${JSON.stringify(record.last_attempt_at)},"last_response_status":${JSON.stringify(record.last_response_status)}` +
    `,"last_error":${JSON.stringify(record.last_error)},"next_attempt_at":${JSON.stringify(record.next_attempt_at)}` +
    `,"dead_reason":${JSON.stringify(record.dead_reason)},"updated_at":${JSON.stringify(record.updated_at)},"replayed_as":${JSON.stringify(record.replayed_as)}}`;
  return Buffer.from(json, 'utf8');
}
