import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { formatAddress, parseIpAddress, privateRangeOf, type PrivateRange } from './private-address.js';

/** Longest subscriber URL we accept. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses (the OS resolver by default). */
export type ResolveHost = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const resolveWithSystem: ResolveHost = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));

/** A subscriber URL we will not call (syntax, scheme, credentials). */
export class WebhookUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookUrlError';
  }
}

/** The target resolves (or is) an address in a refused range: never retried. */
export class DeliveryRefusedError extends Error {
  constructor(
    readonly range: PrivateRange,
    readonly host: string,
  ) {
    super(`${host} is in a refused address range (${range})`);
    this.name = 'DeliveryRefusedError';
  }
}

/** The host name did not resolve: retried (DNS may come back). */
export class HostUnresolvedError extends Error {
  constructor(host: string, options?: { cause?: unknown }) {
    super(`${host} did not resolve`, options);
    this.name = 'HostUnresolvedError';
  }
}

/**
 * Parses and checks a subscriber URL: absolute http(s) (https only when `requireHttps`), no
 * user info, no fragment, a host, at most 2048 characters. Address checks happen on resolve.
 */
export function parseWebhookUrl(text: string, options: { requireHttps: boolean }): URL {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) throw new WebhookUrlError(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  if (/[\s\p{Cc}]/u.test(text)) throw new WebhookUrlError('must not contain whitespace or control characters');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlError('must be an absolute URL');
  }
  const schemes = options.requireHttps ? ['https:'] : ['https:', 'http:'];
  if (!schemes.includes(url.protocol)) throw new WebhookUrlError(options.requireHttps ? 'must be an https URL' : 'must be an http or https URL');
  if (url.username !== '' || url.password !== '') throw new WebhookUrlError('must not contain credentials');
  if (url.hash !== '' || text.includes('#')) throw new WebhookUrlError('must not contain a fragment');
  if (url.hostname === '') throw new WebhookUrlError('must name a host');
  return url;
}

/** The host of a URL as the resolver and the allowlist see it: lowercase, IPv6 without brackets. */
export function hostOf(url: URL): string {
  const host = url.hostname.toLowerCase();
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Resolves the URL's host and returns the one address the connection must use (pinned, so a
 * second DNS answer cannot point it elsewhere). Every address the name resolves to must be
 * public, unless the host is on the allowlist (tests, on-prem).
 */
export async function resolveDeliveryTarget(
  url: URL,
  options: { allowPrivateHosts: ReadonlySet<string>; resolve?: ResolveHost },
): Promise<ResolvedAddress> {
  const host = hostOf(url);
  let addresses: readonly ResolvedAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (options.resolve ?? resolveWithSystem)(host);
    } catch (error) {
      throw new HostUnresolvedError(host, { cause: error });
    }
    if (addresses.length === 0) throw new HostUnresolvedError(host);
  }
  const allowed = options.allowPrivateHosts.has(host);
  let chosen: ResolvedAddress | undefined;
  for (const candidate of addresses) {
    const parsed = parseIpAddress(candidate.address);
    if (!parsed) throw new DeliveryRefusedError('invalid', host);
    const range = privateRangeOf(parsed);
    if (range !== undefined && !allowed) throw new DeliveryRefusedError(range, host);
    chosen ??= { address: parsed.family === 4 ? formatAddress(parsed) : candidate.address, family: parsed.family };
  }
  return chosen!;
}
