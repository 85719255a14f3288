import { z } from 'zod';
import { channelRefSchema } from '@live-upload/schema';
import { OUTBOUND_EVENT_TYPE_LIST } from './outbound-event.js';
import { parseWebhookSecret } from './webhook-secret.js';

/** Subscriber ids: `sub_` + a ULID. */
export const SUBSCRIBER_ID_PATTERN = /^sub_[0-9A-HJKMNP-TV-Z]{26}$/;

export const webhookSecretSchema = z
  .string()
  .max(100)
  .refine((value) => parseWebhookSecret(value) !== undefined, 'must be whsec_ followed by the base64 of 24-64 random bytes');

const channelSchema = z.string().max(80).pipe(channelRefSchema);

const eventsSchema = z.array(z.enum(OUTBOUND_EVENT_TYPE_LIST)).min(1).max(OUTBOUND_EVENT_TYPE_LIST.length)
  .refine((events) => new Set(events).size === events.length, 'must not repeat an event type');
const channelsSchema = z.array(channelSchema).max(100)
  .refine((channels) => new Set(channels).size === channels.length, 'must not repeat a channel');
const descriptionSchema = z.string().max(200).regex(/^\P{Cc}*$/u, 'must not contain control characters');
const maxInFlightSchema = z.number().int().min(1).max(64);

/** `POST /api/v1/webhooks/subscribers`. The URL is checked further by `parseWebhookUrl`. */
export const subscriberCreateSchema = z.strictObject({
  url: z.string().min(1).max(4096),
  events: eventsSchema,
  /** Empty or absent: every channel. */
  channels: channelsSchema.default([]),
  description: descriptionSchema.default(''),
  /** Absent: we generate one and return it once. */
  secret: webhookSecretSchema.optional(),
  /** Deliveries to this subscriber in flight at once from each replica (default from config): a fleet of N sends up to N times it. */
  max_in_flight: maxInFlightSchema.optional(),
});
export type SubscriberCreate = z.infer<typeof subscriberCreateSchema>;

/** `PATCH /api/v1/webhooks/subscribers/:id`: any of these. `enabled: true` re-enables a disabled one. */
export const subscriberUpdateSchema = z
  .strictObject({
    url: z.string().min(1).max(4096).optional(),
    events: eventsSchema.optional(),
    channels: channelsSchema.optional(),
    description: descriptionSchema.optional(),
    enabled: z.boolean().optional(),
    max_in_flight: maxInFlightSchema.optional(),
  })
  .refine((update) => Object.keys(update).length > 0, 'must change at least one field');
export type SubscriberUpdate = z.infer<typeof subscriberUpdateSchema>;

/** `POST /api/v1/webhooks/subscribers/:id/rotate-secret`. */
export const secretRotationSchema = z.strictObject({
  secret: webhookSecretSchema.optional(),
  /** How long the previous secret keeps signing too (default 24 h, at most 7 days; 0 = stop now). */
  previous_secret_ttl_s: z.number().int().min(0).max(7 * 24 * 3600).optional(),
});

const storedSecretSchema = z.object({
  secret: z.string(),
  created_at: z.string(),
  /** Null for the current secret; a previous one signs until then. */
  expires_at: z.string().nullable(),
});

/** A subscriber as stored (KV `outbound-subscribers`). Secrets never leave through the API after creation. */
export const subscriberRecordSchema = z.object({
  id: z.string().regex(SUBSCRIBER_ID_PATTERN),
  url: z.string(),
  events: z.array(z.enum(OUTBOUND_EVENT_TYPE_LIST)),
  channels: z.array(z.string()),
  description: z.string(),
  status: z.enum(['enabled', 'disabled']),
  /** Why it is disabled: `gone` (the receiver answered 410) or `admin`. */
  disabled_reason: z.enum(['gone', 'admin']).nullable(),
  max_in_flight: z.number().int().nullable(),
  /** Newest first. */
  secrets: z.array(storedSecretSchema).min(1),
  created_at: z.string(),
  updated_at: z.string(),
});
export type SubscriberRecord = z.infer<typeof subscriberRecordSchema>;

/** What the admin API shows: everything but the secrets (their count and ages only). */
export function publicSubscriber(record: SubscriberRecord): Record<string, unknown> {
  const { secrets, ...rest } = record;
  return { ...rest, secrets: secrets.map((secret) => ({ created_at: secret.created_at, expires_at: secret.expires_at })) };
}

type StoredSecret = SubscriberRecord['secrets'][number];

/**
 * Key bytes of each stored secret, decoded (and checked) once per stored object rather than on
 * every delivery: a subscriber record is kept as one object until it changes.
 */
const decodedKeys = new WeakMap<StoredSecret, Buffer | null>();

function keyOf(secret: StoredSecret): Buffer | undefined {
  let key = decodedKeys.get(secret);
  if (key === undefined) {
    key = parseWebhookSecret(secret.secret) ?? null;
    decodedKeys.set(secret, key);
  }
  return key ?? undefined;
}

/** The keys that sign now: the current one and any previous one not yet expired. */
export function signingKeys(record: SubscriberRecord, nowMs: number): Buffer[] {
  const keys: Buffer[] = [];
  for (const secret of record.secrets) {
    if (secret.expires_at !== null && !(Date.parse(secret.expires_at) > nowMs)) continue;
    const key = keyOf(secret);
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

/** Does this subscriber want this event? */
export function subscriberWants(record: SubscriberRecord, type: string, channel: string): boolean {
  return (
    record.status === 'enabled' &&
    (record.events as readonly string[]).includes(type) &&
    (record.channels.length === 0 || record.channels.includes(channel))
  );
}
