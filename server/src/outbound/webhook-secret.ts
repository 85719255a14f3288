import { randomBytes } from 'node:crypto';

/** Standard Webhooks symmetric secrets are shown as `whsec_` + base64 of the key bytes. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** The spec asks for at least 24 bytes (192 bits); we cap at 64 bytes. */
export const WEBHOOK_SECRET_MIN_BYTES = 24;
export const WEBHOOK_SECRET_MAX_BYTES = 64;

/** Bytes of a secret we generate. */
const GENERATED_SECRET_BYTES = 32;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A fresh random `whsec_` secret. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(GENERATED_SECRET_BYTES).toString('base64');
}

/**
 * The key bytes of a `whsec_` secret, or undefined when it is not one: missing prefix,
 * not canonical base64 (padding included), or outside 24-64 bytes.
 */
export function parseWebhookSecret(secret: string): Buffer | undefined {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return undefined;
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (encoded.length === 0 || encoded.length > 88 || encoded.length % 4 !== 0 || !BASE64.test(encoded)) return undefined;
  const key = Buffer.from(encoded, 'base64');
  if (key.length < WEBHOOK_SECRET_MIN_BYTES || key.length > WEBHOOK_SECRET_MAX_BYTES) return undefined;
  // Canonical only: a re-encoding must give the same text (no stray bits in the last character).
  if (key.toString('base64') !== encoded) return undefined;
  return key;
}
