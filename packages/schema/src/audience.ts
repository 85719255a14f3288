/**
 * The audience beacon vocabulary (issue 27), free of zod so the element can import it: what a
 * viewing session reports (event), where it was watched (surface), and where the viewer came
 * from (referral source), reduced to a known provider or a bare origin. Never a full referrer
 * URL: the path and query of the page a viewer came from can name them.
 */

/** `start` once per viewing session, `heartbeat` about every 30 s while playing, `clip` a clip made, `upload` an upload finished. */
export const BEACON_EVENTS = ['start', 'heartbeat', 'clip', 'upload'] as const;
export type BeaconEvent = (typeof BEACON_EVENTS)[number];

/** Our landing page, an embed on another site (with its origin), an oEmbed embed, the badge alone. */
export const BEACON_SURFACES = ['landing', 'embed', 'oembed', 'badge'] as const;
export type BeaconSurface = (typeof BEACON_SURFACES)[number];

/** Referral sources that are not an origin: the known providers, search engines, and no referrer. */
export const REFERRAL_PROVIDERS = ['twitch', 'youtube', 'bluesky', 'mastodon', 'search', 'direct'] as const;
export type ReferralProvider = (typeof REFERRAL_PROVIDERS)[number];

/** A known provider, or another site's origin (`https://example.org`). */
export type ReferralSource = ReferralProvider | `${'http' | 'https'}://${string}`;

/** Seconds between heartbeats while playing; the aggregate counts a viewer in every minute a heartbeat (or start) arrived. */
export const BEACON_HEARTBEAT_S = 30;

/** A viewing session id: random per page view (never a user id), 16 to 64 URL-safe characters. */
export const VIEWING_SESSION_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

const hostIs = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** Hosts of search engines: a referral from any of them is `search` (Google's many country domains included). */
function isSearchHost(host: string): boolean {
  if (/(^|\.)google\.[a-z.]{2,6}$/.test(host) || /(^|\.)yandex\.[a-z.]{2,6}$/.test(host)) return true;
  return ['bing.com', 'duckduckgo.com', 'search.yahoo.com', 'baidu.com', 'ecosia.org', 'search.brave.com', 'kagi.com', 'startpage.com', 'qwant.com'].some((domain) => hostIs(host, domain));
}

/** Mastodon has no one domain: the flagship instances and the `mastodon.` / `mstdn.` host names most instances use. */
function isMastodonHost(host: string): boolean {
  return /(^|\.)(mastodon|mstdn)\./.test(host) || ['mastodon.social', 'mastodon.online', 'mas.to', 'fosstodon.org', 'hachyderm.io', 'infosec.exchange'].some((domain) => hostIs(host, domain));
}

/** The known provider a host belongs to, if any. */
function providerOfHost(host: string): ReferralProvider | undefined {
  if (hostIs(host, 'twitch.tv')) return 'twitch';
  if (hostIs(host, 'youtube.com') || hostIs(host, 'youtu.be') || hostIs(host, 'youtube-nocookie.com')) return 'youtube';
  if (hostIs(host, 'bsky.app') || hostIs(host, 'bsky.social')) return 'bluesky';
  if (isMastodonHost(host)) return 'mastodon';
  if (isSearchHost(host)) return 'search';
  return undefined;
}

/**
 * Where a viewer came from, reduced so that nothing about them is kept: a known provider
 * (`twitch`, `youtube`, `bluesky`, `mastodon`, `search`), else the referrer's origin alone
 * (scheme, host, port; never its path or query), else `direct` (no referrer, one that is not an
 * http(s) URL, or the page's own origin: moving within a site is not a referral). `referrer` is
 * `document.referrer` (the element and the landing page) or what a beacon carried (the server
 * reduces again, so a full URL sent by hand is never stored); an already reduced source passes
 * unchanged. Pure; the same in the browser and the server.
 */
export function referralSourceOf(referrer: string | null | undefined, pageOrigin: string | null | undefined): ReferralSource {
  const value = (referrer ?? '').trim();
  if (value === '') return 'direct';
  if ((REFERRAL_PROVIDERS as readonly string[]).includes(value)) return value as ReferralProvider;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'direct';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'direct';
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host === '') return 'direct';
  const provider = providerOfHost(host);
  if (provider) return provider;
  if (pageOrigin && url.origin === originOf(pageOrigin)) return 'direct';
  return url.origin as ReferralSource;
}

/** The origin of an http(s) URL (`https://example.org`), else undefined. */
export function originOf(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
