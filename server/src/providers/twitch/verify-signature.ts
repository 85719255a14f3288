import { timingSafeEqual } from 'node:crypto';
import { EVENTSUB_SIGNATURE_PREFIX } from './eventsub-headers.js';
import { computeEventSubHmac } from './eventsub-hmac.js';
import { parseRfc3339 } from './rfc3339.js';

/** Twitch: reject messages older than 10 minutes as replays. */
export const EVENTSUB_MAX_AGE_MS = 10 * 60 * 1000;
/** Tolerated clock skew for timestamps ahead of ours. */
export const EVENTSUB_MAX_FUTURE_MS = 60 * 1000;

/** `sha256=` and exactly 64 lowercase hex digits: the only shape Twitch sends. */
const SIGNATURE_PATTERN = /^sha256=[0-9a-f]{64}$/;

export interface EventSubSignatureInput {
  readonly secret: string | Uint8Array;
  /** `Twitch-Eventsub-Message-Id`. */
  readonly messageId: string;
  /** `Twitch-Eventsub-Message-Timestamp`, exactly as received. */
  readonly timestamp: string;
  /** The request body bytes exactly as received. */
  readonly rawBody: Uint8Array;
  /** `Twitch-Eventsub-Message-Signature`; undefined when the header was missing. */
  readonly signature: string | undefined;
}

/**
 * True when `signature` is the HMAC-SHA256 of messageId + timestamp + raw body under `secret`.
 * Never throws: a missing, malformed, truncated or uppercase signature is simply false, and
 * the comparison of well-formed signatures is constant-time.
 */
export function verifyEventSubSignature(input: EventSubSignatureInput): boolean {
  const { secret, messageId, timestamp, rawBody, signature } = input;
  if (typeof signature !== 'string' || !SIGNATURE_PATTERN.test(signature)) return false;
  if (typeof messageId !== 'string' || typeof timestamp !== 'string' || !(rawBody instanceof Uint8Array)) return false;
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) return false;
  const expected = computeEventSubHmac(secret, messageId, timestamp, rawBody);
  const received = Buffer.from(signature.slice(EVENTSUB_SIGNATURE_PREFIX.length), 'hex');
  // The pattern guarantees 32 bytes; the length check keeps timingSafeEqual from ever throwing.
  return received.length === expected.length && timingSafeEqual(received, expected);
}

export type EventSubTimestampCheck = 'ok' | 'stale' | 'future' | 'invalid';

export interface EventSubTimestampLimits {
  readonly maxAgeMs?: number;
  readonly maxFutureMs?: number;
}

/**
 * Classifies `Twitch-Eventsub-Message-Timestamp` (RFC 3339, nanosecond precision) against our
 * clock: `stale` when older than 10 minutes (a replay), `future` when more than a minute ahead.
 */
export function checkEventSubTimestamp(
  timestamp: string | undefined,
  nowMs: number,
  limits: EventSubTimestampLimits = {},
): EventSubTimestampCheck {
  const sentAtMs = parseRfc3339(timestamp);
  if (sentAtMs === undefined || !Number.isFinite(nowMs)) return 'invalid';
  if (nowMs - sentAtMs > (limits.maxAgeMs ?? EVENTSUB_MAX_AGE_MS)) return 'stale';
  if (sentAtMs - nowMs > (limits.maxFutureMs ?? EVENTSUB_MAX_FUTURE_MS)) return 'future';
  return 'ok';
}
