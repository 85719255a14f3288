import { PROVIDERS, type ProviderName } from '@live-upload/schema';
import { z } from 'zod';
import { ByteArena } from '../bus/byte-arena.js';

/**
 * A verified provider event as it travels on `live.raw.{provider}`: the provider's ids and
 * timestamps plus the body exactly as received (a string, so nothing is re-serialized).
 * The bus msg id is `{provider}:{message_id}`.
 */
export const rawProviderEventSchema = z.object({
  provider: z.enum(PROVIDERS),
  message_id: z.string().min(1).max(256),
  message_type: z.string().min(1).max(64),
  subscription_type: z.string().max(128),
  subscription_version: z.string().max(16),
  /** The provider's own timestamp for the message (RFC 3339). */
  message_timestamp: z.string(),
  /** When we accepted it (ISO). */
  received_at: z.string(),
  body: z.string(),
});
export type RawProviderEvent = z.infer<typeof rawProviderEventSchema>;

/** Strict: the body was valid UTF-8 when it was accepted. */
const decoder = new TextDecoder('utf-8', { fatal: true });
const NEWLINE = 0x0a;
const PROVIDER_NAMES: ReadonlySet<string> = new Set(PROVIDERS);
const json = JSON.stringify;
/**
 * Where encoded raw events are written: each is handed to the bus at once, which copies it
 * (memory) or writes it out within a turn (NATS), so they are let go in the order they were made.
 */
const encoded = new ByteArena();

/**
 * A raw event as stored on `live.raw.*`: the envelope (every field but `body`) as one line of
 * JSON, a newline, then the body exactly as received. The body is never escaped into a JSON
 * string and parsed back out of it (that was most of the cost of storing and reading one).
 * `JSON.stringify` never writes a raw newline, so the first one ends the envelope.
 *
 * The envelope's line is written field by field, in `rawProviderEventSchema`'s order: what
 * `JSON.stringify` of the event less its body wrote (for an event built in that order), without
 * copying the event into a new object first; it runs for every webhook (bench/README, ingest).
 */
export function encodeRawEvent(event: RawProviderEvent): Uint8Array {
  const envelope =
    `{"provider":${json(event.provider)},"message_id":${json(event.message_id)},"message_type":${json(event.message_type)},` +
    `"subscription_type":${json(event.subscription_type)},"subscription_version":${json(event.subscription_version)},` +
    `"message_timestamp":${json(event.message_timestamp)},"received_at":${json(event.received_at)}}\n`;
  return encoded.encode(envelope, event.body);
}

/**
 * Reads what `encodeRawEvent` wrote. Throws when the bytes are not that: the envelope is held
 * to `rawProviderEventSchema` (checked by hand, field by field, as that schema would: its parse
 * was a fifth of reading a raw event in the pipeline), and what else the envelope carries is
 * dropped, as the schema drops it.
 */
export function decodeRawEvent(data: Uint8Array): RawProviderEvent {
  const newline = data.indexOf(NEWLINE);
  if (newline < 0) throw new SyntaxError('a raw event is an envelope line, a newline, then the body');
  const envelope: unknown = JSON.parse(decoder.decode(data.subarray(0, newline)));
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) throw new TypeError('a raw event envelope is a JSON object');
  const fields = envelope as Record<string, unknown>;
  const provider = fields['provider'];
  if (typeof provider !== 'string' || !PROVIDER_NAMES.has(provider)) throw new TypeError(`raw event provider must be one of ${PROVIDERS.join(', ')}`);
  return {
    provider: provider as ProviderName,
    message_id: envelopeString(fields, 'message_id', 1, 256),
    message_type: envelopeString(fields, 'message_type', 1, 64),
    subscription_type: envelopeString(fields, 'subscription_type', 0, 128),
    subscription_version: envelopeString(fields, 'subscription_version', 0, 16),
    message_timestamp: envelopeString(fields, 'message_timestamp', 0, Number.POSITIVE_INFINITY),
    received_at: envelopeString(fields, 'received_at', 0, Number.POSITIVE_INFINITY),
    body: decoder.decode(data.subarray(newline + 1)),
  };
}

/** An envelope field that must be a string of `min` to `max` code points (what the schema's `min` and `max` count). */
function envelopeString(fields: Record<string, unknown>, name: string, min: number, max: number): string {
  const value = fields[name];
  if (typeof value !== 'string') throw new TypeError(`raw event ${name} must be a string`);
  // A code point is one or two UTF-16 units: counted only when the units leave it in doubt.
  const units = value.length;
  const length = units > max || (units >= min && units < min * 2) ? codePointLength(value) : units;
  if (length < min || length > max) throw new RangeError(`raw event ${name} must be ${min} to ${max} characters`);
  return value;
}

function codePointLength(value: string): number {
  let length = 0;
  for (const _ of value) length++;
  return length;
}

export function rawEventMsgId(event: Pick<RawProviderEvent, 'provider' | 'message_id'>): string {
  return `${event.provider}:${event.message_id}`;
}
