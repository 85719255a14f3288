import { EVENTSUB_SIGNATURE_PREFIX } from './eventsub-headers.js';
import { computeEventSubHmac } from './eventsub-hmac.js';

/**
 * The `Twitch-Eventsub-Message-Signature` value Twitch would send for this message:
 * `sha256=<lowercase hex>`. Used by the demo's simulated streamer.
 */
export function signEventSubMessage(
  secret: string | Uint8Array,
  messageId: string,
  timestamp: string,
  rawBody: Uint8Array,
): string {
  return `${EVENTSUB_SIGNATURE_PREFIX}${computeEventSubHmac(secret, messageId, timestamp, rawBody).toString('hex')}`;
}
