import { parseChannelRef } from '@live-upload/schema';
import type { CanonicalEvent } from '../../provider-adapter/index.js';
import {
  BLUESKY_COLLECTIONS,
  BLUESKY_LIVE_STATUS,
  externalEmbedOf,
  facetLinksOf,
  postRecordSchema,
  recordUri,
  statusRecordSchema,
  type JetstreamCommitEvent,
} from './jetstream-event.js';

/** Where the channel streams, to recognize a post that links it. */
export interface ChannelStreamLinks {
  readonly twitchLogin?: string;
  readonly youtubeChannelId?: string;
  /** Our landing page `{publicUrl}/c/{publisher}/{slug}`; without it, any origin with that path matches. */
  readonly landingPageUrl?: string;
}

export interface BlueskyEventInput {
  /** `{publisher}/{slug}` the DID is linked to. */
  readonly channel: string;
  readonly messageId: string;
  readonly event: JetstreamCommitEvent;
  readonly links: ChannelStreamLinks;
}

/** A `createdAt` further ahead of the commit's own time than this is not believed. */
const MAX_CREATED_AT_LEAD_MS = 10 * 60 * 1000;
/** URLs looked at per post: more is not a real post. */
const MAX_URLS = 64;
const URL_IN_TEXT = /\b(?:https?:\/\/[^\s<>"'()]+|(?:www\.|m\.)?(?:twitch\.tv|youtube\.com|youtu\.be)\/[^\s<>"'()]+)/gi;
const TWITCH_HOSTS = new Set(['twitch.tv', 'www.twitch.tv', 'm.twitch.tv']);
const YOUTUBE_HOSTS = new Set(['youtube.com', 'www.youtube.com', 'm.youtube.com']);

/**
 * Maps a Jetstream commit of a linked account to an UNVERIFIED canonical event (DESIGN.md:
 * Bluesky is a discovery hint; it never sets LIVE alone):
 * - `app.bsky.actor.status` create/update with `#live` -> `online` (title from the external
 *   embed), another status or a delete -> `offline`; both name the status URI as provenance;
 * - an `app.bsky.feed.post` create/update whose text, link facets or external embed links the
 *   channel's stream -> `update` naming the post URI; any other post -> nothing.
 * Event time: the record's `createdAt` when valid, else the commit's `time_us`.
 */
export function mapBlueskyEvent(input: BlueskyEventInput): CanonicalEvent | undefined {
  const { event } = input;
  const { commit } = event;
  const base = { channel: input.channel, provider: 'bluesky' as const, eventId: input.messageId, verified: false };
  const commitTimeMs = Math.floor(event.time_us / 1000);
  const uri = recordUri(event.did, commit.collection, commit.rkey);

  if (commit.collection === BLUESKY_COLLECTIONS.status) {
    if (commit.operation === 'delete') return { ...base, kind: 'offline', eventTimeMs: commitTimeMs, providerStreamId: uri, fields: {} };
    const status = statusRecordSchema.safeParse(commit.record);
    if (!status.success) return undefined;
    const eventTimeMs = eventTime(status.data.createdAt, commitTimeMs);
    if (status.data.status !== BLUESKY_LIVE_STATUS) return { ...base, kind: 'offline', eventTimeMs, providerStreamId: uri, fields: {} };
    const title = externalEmbedOf(status.data.embed)?.title.trim();
    return { ...base, kind: 'online', eventTimeMs, providerStreamId: uri, fields: title ? { title } : {} };
  }

  if (commit.collection === BLUESKY_COLLECTIONS.post && commit.operation !== 'delete') {
    const post = postRecordSchema.safeParse(commit.record);
    if (!post.success) return undefined;
    const urls = [...(post.data.text.match(URL_IN_TEXT) ?? []), ...facetLinksOf(post.data.facets)];
    const external = externalEmbedOf(post.data.embed);
    if (external) urls.push(external.uri);
    if (!urls.slice(0, MAX_URLS).some((url) => linksChannelStream(url, input.channel, input.links))) return undefined;
    return { ...base, kind: 'update', eventTimeMs: eventTime(post.data.createdAt, commitTimeMs), providerStreamId: uri, fields: {} };
  }
  return undefined;
}

/** A record's `createdAt` when it is an RFC 3339 time not far ahead of the commit, else the commit time. */
function eventTime(createdAt: string, commitTimeMs: number): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(createdAt)) return commitTimeMs;
  const ms = Date.parse(createdAt);
  return Number.isFinite(ms) && ms > 0 && ms <= commitTimeMs + MAX_CREATED_AT_LEAD_MS ? ms : commitTimeMs;
}

/**
 * Whether a URL points at the channel's stream: its Twitch channel, its YouTube channel or a
 * YouTube video (the post is by the channel's own linked account, and a video id cannot be
 * told apart offline), or the channel's landing page.
 */
export function linksChannelStream(text: string, channel: string, links: ChannelStreamLinks): boolean {
  let url: URL;
  try {
    url = new URL(/^https?:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase();
  const segments = url.pathname.split('/').filter(Boolean);
  if (TWITCH_HOSTS.has(host)) return links.twitchLogin !== undefined && segments[0]?.toLowerCase() === links.twitchLogin.toLowerCase();
  if (YOUTUBE_HOSTS.has(host) || host === 'youtu.be') {
    if (links.youtubeChannelId === undefined) return false;
    if (host === 'youtu.be') return segments.length === 1;
    if (segments[0] === 'channel') return segments[1] === links.youtubeChannelId;
    return (segments[0] === 'watch' && url.searchParams.has('v')) || (segments[0] === 'live' && segments.length === 2);
  }
  const ref = parseChannelRef(channel);
  if (!ref || segments.length !== 3 || segments[0] !== 'c' || segments[1] !== ref.publisher || segments[2] !== ref.slug) return false;
  if (links.landingPageUrl === undefined) return true;
  try {
    return url.origin === new URL(links.landingPageUrl).origin;
  } catch {
    return false;
  }
}
