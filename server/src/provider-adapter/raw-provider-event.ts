import { PROVIDERS } from '@live-upload/schema';
import { z } from 'zod';

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

const envelopeSchema = rawProviderEventSchema.omit({ body: true });
/** Strict: the body was valid UTF-8 when it was accepted. */
const decoder = new TextDecoder('utf-8', { fatal: true });
const NEWLINE = 0x0a;

/**
 * A raw event as stored on `live.raw.*`: the envelope (every field but `body`) as one line of
 * JSON, a newline, then the body exactly as received. The body is never escaped into a JSON
 * string and parsed back out of it (that was most of the cost of storing and reading one).
 * `JSON.stringify` never writes a raw newline, so the first one ends the envelope.
 */
export function encodeRawEvent(event: RawProviderEvent): Uint8Array {
  const { body, ...envelope } = event;
  // Buffer.from: small ones come from Node's shared pool, several times cheaper than TextEncoder's fresh ArrayBuffer.
  return Buffer.from(`${JSON.stringify(envelope)}\n${body}`, 'utf8');
}

/** Reads what `encodeRawEvent` wrote. Throws when the bytes are not that. */
export function decodeRawEvent(data: Uint8Array): RawProviderEvent {
  const newline = data.indexOf(NEWLINE);
  if (newline < 0) throw new SyntaxError('a raw event is an envelope line, a newline, then the body');
  const envelope = envelopeSchema.parse(JSON.parse(decoder.decode(data.subarray(0, newline))));
  return { ...envelope, body: decoder.decode(data.subarray(newline + 1)) };
}

export function rawEventMsgId(event: Pick<RawProviderEvent, 'provider' | 'message_id'>): string {
  return `${event.provider}:${event.message_id}`;
}
