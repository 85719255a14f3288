import { createHmac } from 'node:crypto';

/** Header names of the Standard Webhooks spec, one table. */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** The symmetric (HMAC-SHA256) signature identifier. */
export const SIGNATURE_VERSION = 'v1';

/** One signature: `v1,` + base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}"). */
export function signWebhook(key: Uint8Array, id: string, timestampSeconds: number, body: string): string {
  if (id.includes('.')) throw new RangeError('a webhook id must not contain "."');
  if (!Number.isInteger(timestampSeconds) || timestampSeconds < 0) throw new RangeError('the timestamp must be whole seconds');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `${SIGNATURE_VERSION},${mac}`;
}

/**
 * The three headers of one attempt. Every key signs (space-separated), so a receiver still
 * holding the previous secret verifies during a rotation.
 */
export function webhookHeaders(keys: readonly Uint8Array[], id: string, timestampSeconds: number, body: string): Record<string, string> {
  if (keys.length === 0) throw new RangeError('at least one signing key is required');
  let signature = signWebhook(keys[0]!, id, timestampSeconds, body);
  for (let i = 1; i < keys.length; i++) signature += ` ${signWebhook(keys[i]!, id, timestampSeconds, body)}`;
  // Literal names (the values of WEBHOOK_HEADERS): an object of computed names is built key by
  // key on every call, a measurable part of an attempt in the outbound bench's profile.
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': signature };
}
