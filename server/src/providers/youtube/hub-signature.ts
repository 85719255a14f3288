import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a WebSub hub signs content distribution with. */
export const HUB_SIGNATURE_HEADER = 'X-Hub-Signature' as const;

/**
 * `X-Hub-Signature: {method}={lowercase hex}`. PubSubHubbub 0.4 (what YouTube's hub speaks)
 * defines only `sha1`; W3C WebSub adds the SHA-2 methods, accepted here too.
 */
const HEX_LENGTH = { sha1: 40, sha256: 64, sha384: 96, sha512: 128 } as const;
type HubSignatureMethod = keyof typeof HEX_LENGTH;

const SIGNATURE_PATTERN = /^(sha1|sha256|sha384|sha512)=([0-9a-f]+)$/i;

export type HubSignatureCheck = 'valid' | 'unsigned' | 'invalid';

export interface HubSignatureInput {
  /** The `hub.secret` we gave the hub for this subscription. */
  readonly secret: string;
  /** The request body exactly as received. */
  readonly rawBody: Uint8Array;
  /** `X-Hub-Signature`; undefined when absent. */
  readonly signature: string | undefined;
}

/**
 * Checks the hub's HMAC over the raw body. Never throws: an absent header is `unsigned`, any
 * malformed or wrong value is `invalid`; well-formed values are compared in constant time.
 * Per the spec both are acknowledged with 2xx by the caller, then ignored.
 */
export function checkHubSignature(input: HubSignatureInput): HubSignatureCheck {
  const { secret, rawBody, signature } = input;
  if (signature === undefined || signature === '') return 'unsigned';
  if (typeof signature !== 'string' || signature.length > 140) return 'invalid';
  if (typeof secret !== 'string' || secret.length === 0 || !(rawBody instanceof Uint8Array)) return 'invalid';
  const match = SIGNATURE_PATTERN.exec(signature);
  if (!match) return 'invalid';
  const method = match[1]!.toLowerCase() as HubSignatureMethod;
  const hex = match[2]!.toLowerCase();
  if (hex.length !== HEX_LENGTH[method]) return 'invalid';
  const expected = createHmac(method, secret).update(rawBody).digest();
  const received = Buffer.from(hex, 'hex');
  return received.length === expected.length && timingSafeEqual(received, expected) ? 'valid' : 'invalid';
}
