import { z } from 'zod';

/**
 * A verified provider event as it travels on `live.raw.{provider}`: the provider's ids and
 * timestamps plus the body exactly as received (a string, so nothing is re-serialized).
 * The bus msg id is `{provider}:{message_id}`.
 */
export const rawProviderEventSchema = z.object({
  provider: z.enum(['twitch', 'youtube', 'bluesky']),
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

export function rawEventMsgId(event: Pick<RawProviderEvent, 'provider' | 'message_id'>): string {
  return `${event.provider}:${event.message_id}`;
}
