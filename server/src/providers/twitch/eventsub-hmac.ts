import { createHmac } from 'node:crypto';

/**
 * The EventSub HMAC: SHA-256 keyed with the subscription secret over the message id, the
 * timestamp header and the request body exactly as received (bytes, never re-serialized).
 * Shared by `verifyEventSubSignature` and `signEventSubMessage`. The id and the timestamp go in
 * as one string: the same UTF-8 bytes as two updates, one crossing into the hash fewer.
 */
export function computeEventSubHmac(
  secret: string | Uint8Array,
  messageId: string,
  timestamp: string,
  rawBody: Uint8Array,
): Buffer {
  return createHmac('sha256', secret).update(messageId + timestamp, 'utf8').update(rawBody).digest();
}
