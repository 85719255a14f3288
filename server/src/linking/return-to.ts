/**
 * Where the OAuth callback may send the browser back to: an absolute http(s) URL whose origin
 * (scheme, host, port) is exactly one of the configured origins. Anything else (relative or
 * protocol-relative URLs, userinfo tricks, look-alike hosts, backslashes, control characters)
 * is refused: an open redirect would hand our link result to anyone.
 */

const MAX_RETURN_TO_LENGTH = 2048;

/** Parses the configured list into canonical origins; throws naming a bad entry. */
export function parseReturnToOrigins(origins: readonly string[]): string[] {
  return origins.map((origin) => {
    const url = URL.canParse(origin) ? new URL(origin) : undefined;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin.replace(/\/$/, '') || url.username || url.password) {
      throw new Error(`return_to origin "${origin}" must be a bare origin such as https://app.example or http://localhost:8080`);
    }
    return url.origin;
  });
}

/** The URL to redirect to, or undefined when `returnTo` is not on the allowlist. */
export function allowedReturnTo(returnTo: string, allowedOrigins: readonly string[]): URL | undefined {
  if (returnTo.length === 0 || returnTo.length > MAX_RETURN_TO_LENGTH) return undefined;
  // Backslashes, whitespace and control characters are normalised away by URL parsers in ways
  // browsers may not share; none belongs in a return address.
  if (/[\\\s]/.test(returnTo) || [...returnTo].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f)) return undefined;
  if (!URL.canParse(returnTo)) return undefined;
  const url = new URL(returnTo);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  if (!allowedOrigins.includes(url.origin)) return undefined;
  // The text itself must start with the origin: no scheme-relative or oddly spelled hosts.
  if (!returnTo.startsWith(`${url.origin}/`) && returnTo !== url.origin) return undefined;
  url.hash = '';
  return url;
}
