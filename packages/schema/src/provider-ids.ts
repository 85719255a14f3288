/** Account ids of the providers a channel links, free of zod so any side can check one. */

/** A YouTube channel id: `UC` and 22 characters of base64url. */
export const YOUTUBE_CHANNEL_ID_PATTERN = /^UC[A-Za-z0-9_-]{22}$/;

/** `did:plc:` and 24 characters of lowercase base32 (the atproto PLC method). */
const DID_PLC_PATTERN = /^did:plc:[a-z2-7]{24}$/;

/**
 * `did:web:` and a host name (atproto supports host-level did:web only: no path, no port).
 * Lowercase labels of letters, digits and dashes, at least two labels, at most 253 characters.
 */
const DID_WEB_PATTERN = /^did:web:(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isYoutubeChannelId(value: unknown): value is string {
  return typeof value === 'string' && YOUTUBE_CHANNEL_ID_PATTERN.test(value);
}

/** A Bluesky account's DID: `did:plc:…` or `did:web:{host}`. */
export function isBlueskyDid(value: unknown): value is string {
  return typeof value === 'string' && (DID_PLC_PATTERN.test(value) || DID_WEB_PATTERN.test(value));
}
