/** Playback URLs, free of zod so the browser element can check one before handing it to a player. */

/** Longer than any real manifest URL; a cap so a record stays small. */
export const PLAYBACK_URL_MAX_LENGTH = 2048;

/** Whitespace, C0/C1 controls and the bidi / zero-width format characters. */
const UNSAFE_CHARACTERS = /[\s\p{Cc}\p{Cf}]/u;

/**
 * Whether `value` is a URL a player may load: absolute `http:` or `https:`, with a host, without
 * credentials, whitespace or control characters, at most `PLAYBACK_URL_MAX_LENGTH` long. Anything
 * else (`javascript:`, `data:`, `file:`, `blob:`, relative paths) is refused.
 */
export function isPlaybackUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > PLAYBACK_URL_MAX_LENGTH || UNSAFE_CHARACTERS.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.hostname === '' || url.username !== '' || url.password !== '') return false;
  // `new URL` repairs `http:/host` and `http:host`; a playback URL is written out in full.
  return /^https?:\/\/[^/]/i.test(value);
}
