import { CHANNEL_PART_PATTERN, type ChannelRef } from '../channel-ref.js';
import type { LiveMetadata } from '../live-metadata.js';
import { PLAYBACK_URL_MAX_LENGTH } from '../playback-url.js';

/** A still image of the channel (poster): absolute URL, and its size when known. */
export interface Poster {
  readonly url: string;
  readonly width?: number;
  readonly height?: number;
}

/** What the discovery builders are made from: the canonical record plus where it is published. */
export interface ChannelPageInput {
  readonly record: LiveMetadata;
  /** Our public base URL, e.g. `https://live.example` (a trailing slash is ignored). */
  readonly publicUrl: string;
  /** The channel's own name from its admin config; null: none, the `{publisher}/{slug}` is used. */
  readonly channelTitle: string | null;
  /** `og:site_name` and the oEmbed `provider_name`. */
  readonly siteName: string;
  readonly poster?: Poster;
}

/** One channel's landing page, described once for the HTML head, JSON-LD, OpenGraph and oEmbed. */
export interface ChannelPage {
  readonly record: LiveMetadata;
  readonly channel: string;
  /** The channel's name: its configured title, else `{publisher}/{slug}`. */
  readonly channelName: string;
  /** What is on now (the broadcast title), else the channel's name. */
  readonly title: string;
  /** The document title: the title, prefixed `LIVE: ` while live. */
  readonly documentTitle: string;
  /** One sentence, at most 300 characters, for meta/OG descriptions. */
  readonly description: string;
  readonly isLive: boolean;
  /** Whether the channel has a player (a playback URL); else only its badge is shown. */
  readonly hasPlayer: boolean;
  readonly siteName: string;
  /** `{publicUrl}` without a trailing slash. */
  readonly providerUrl: string;
  /** `{publicUrl}/c/{publisher}/{slug}`: the canonical URL. */
  readonly pageUrl: string;
  /** The minimal page an oEmbed iframe shows: `{pageUrl}?embed=1`. */
  readonly embedUrl: string;
  /** Where the oEmbed for this page is (the discovery `<link>`). */
  readonly oEmbedUrl: string;
  readonly poster: Poster | undefined;
}

const DESCRIPTION_MAX_LENGTH = 300;

function trimBase(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '');
}

/** The landing page of a channel: `{publicUrl}/c/{publisher}/{slug}`. */
export function channelPageUrl(publicUrl: string, channel: string): string {
  return `${trimBase(publicUrl)}/c/${channel}`;
}

/** The oEmbed endpoint for one of our pages, as its discovery `<link>` names it. */
export function oEmbedEndpointUrl(publicUrl: string, pageUrl: string): string {
  return `${trimBase(publicUrl)}/oembed?url=${encodeURIComponent(pageUrl)}&format=json`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function describe(record: LiveMetadata, channelName: string, title: string): string {
  const about = title === channelName ? channelName : `${channelName}: ${title}`;
  const tags = record.tags.length > 0 ? ` Tags: ${record.tags.join(', ')}.` : '';
  switch (record.status) {
    case 'live': {
      const viewers = record.viewer_count === null ? '' : ` (${record.viewer_count} watching)`;
      return clip(`Live now${viewers}: ${about}.${tags}`, DESCRIPTION_MAX_LENGTH);
    }
    case 'scheduled':
      return clip(`Live soon: ${about}.${tags}`, DESCRIPTION_MAX_LENGTH);
    case 'offline':
      return clip(`${about} is offline right now. Come back for the next live stream.${tags}`, DESCRIPTION_MAX_LENGTH);
  }
}

/** Describes a channel's landing page from its canonical record. Pure. */
export function describeChannelPage(input: ChannelPageInput): ChannelPage {
  const { record } = input;
  const providerUrl = trimBase(input.publicUrl);
  const channelName = input.channelTitle ?? record.channel;
  const title = record.title ?? channelName;
  const isLive = record.status === 'live';
  const pageUrl = channelPageUrl(providerUrl, record.channel);
  return {
    record,
    channel: record.channel,
    channelName,
    title,
    documentTitle: isLive ? `LIVE: ${title}` : title,
    description: describe(record, channelName, title),
    isLive,
    hasPlayer: record.playback !== undefined,
    siteName: input.siteName,
    providerUrl,
    pageUrl,
    embedUrl: `${pageUrl}?embed=1`,
    oEmbedUrl: oEmbedEndpointUrl(providerUrl, pageUrl),
    poster: input.poster,
  };
}

/**
 * The channel a URL names when it is one of OUR landing pages: an absolute http(s) URL on the
 * same origin as `publicUrl` (and under its base path) whose path is exactly `/c/{publisher}/{slug}`.
 * A query or fragment is allowed (`?embed=1`). Anything else — other origins or paths,
 * credentials, encoded slashes, dot segments, `javascript:` — is undefined.
 */
export function parseChannelPageUrl(publicUrl: string, value: string): ChannelRef | undefined {
  if (value.length > PLAYBACK_URL_MAX_LENGTH || /[\s\p{Cc}\p{Cf}\\]/u.test(value) || !/^https?:\/\/[^/]/i.test(value)) return undefined;
  let url: URL;
  let base: URL;
  try {
    url = new URL(value);
    base = new URL(trimBase(publicUrl));
  } catch {
    return undefined;
  }
  if (url.origin !== base.origin || url.username !== '' || url.password !== '') return undefined;
  const prefix = `${base.pathname.replace(/\/+$/, '')}/c/`;
  // Compare the path as written: `new URL` resolves `..` and `%2e%2e`, which our pages never contain.
  const pathStart = value.indexOf('/', value.indexOf('//') + 2);
  if (pathStart < 0) return undefined;
  const written = value.slice(pathStart).replace(/[?#].*$/s, '');
  if (written !== url.pathname || !url.pathname.startsWith(prefix)) return undefined;
  const parts = url.pathname.slice(prefix.length).split('/');
  if (parts.length !== 2) return undefined;
  const [publisher, slug] = parts as [string, string];
  if (!CHANNEL_PART_PATTERN.test(publisher) || !CHANNEL_PART_PATTERN.test(slug)) return undefined;
  return { publisher, slug };
}
