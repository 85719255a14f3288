import { parseRfc3339 } from '../twitch/index.js';
import { isYouTubeChannelId, isYouTubeVideoId } from './youtube-ids.js';
import { SafeXmlError, attributeValue, childElement, childElements, parseSafeXml, type XmlElement } from './safe-xml.js';

/** Namespaces of the feed YouTube's hub relays. Matched by URI, never by prefix. */
export const YOUTUBE_FEED_NAMESPACES = {
  atom: 'http://www.w3.org/2005/Atom',
  youtube: 'http://www.youtube.com/xml/schemas/2015',
  tombstones: 'http://purl.org/atompub/tombstones/1.0',
} as const;

/** A notification is a few hundred bytes per entry; anything near this is not YouTube. */
export const YOUTUBE_FEED_MAX_BYTES = 64 * 1024;
/** Entries read from one notification; the rest are dropped. */
export const YOUTUBE_FEED_MAX_ENTRIES = 50;

/** A video was published or changed: only a hint, confirmed through the Data API. */
export interface YouTubeFeedEntry {
  readonly kind: 'entry';
  readonly videoId: string;
  readonly channelId: string;
  readonly title: string | null;
  /** `<updated>`, ms since the epoch, when present and valid. */
  readonly updatedMs: number | null;
}

/** `<at:deleted-entry ref="yt:video:ID" when="...">`: the video was deleted. */
export interface YouTubeDeletedEntry {
  readonly kind: 'deleted';
  readonly videoId: string;
  /** From `<at:by><uri>.../channel/UC...</uri>`, when present. */
  readonly channelId: string | null;
  readonly deletedAtMs: number | null;
}

export type YouTubeFeedItem = YouTubeFeedEntry | YouTubeDeletedEntry;

export type YouTubeFeedResult =
  | { readonly ok: true; readonly items: readonly YouTubeFeedItem[] }
  | { readonly ok: false; readonly reason: 'too_large' | 'not_utf8' | 'not_xml' | 'not_atom' };

const { atom, youtube, tombstones } = YOUTUBE_FEED_NAMESPACES;

/**
 * Reads the Atom feed of a YouTube push notification
 * (https://developers.google.com/youtube/v3/guides/push_notifications). Pure and total: it
 * never throws, and entries that do not carry a valid `yt:videoId` and `yt:channelId` (in the
 * YouTube namespace, whatever the prefix) are skipped.
 */
export function parseYouTubeFeed(rawBody: Uint8Array, maxBytes: number = YOUTUBE_FEED_MAX_BYTES): YouTubeFeedResult {
  if (rawBody.byteLength > maxBytes) return { ok: false, reason: 'too_large' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch {
    return { ok: false, reason: 'not_utf8' };
  }
  let root: XmlElement;
  try {
    root = parseSafeXml(text);
  } catch (error) {
    if (error instanceof SafeXmlError) return { ok: false, reason: 'not_xml' };
    throw error;
  }
  if (root.ns !== atom || root.local !== 'feed') return { ok: false, reason: 'not_atom' };

  const items: YouTubeFeedItem[] = [];
  for (const child of root.children) {
    if (items.length >= YOUTUBE_FEED_MAX_ENTRIES) break;
    if (child.ns === atom && child.local === 'entry') {
      const entry = readEntry(child);
      if (entry) items.push(entry);
    } else if (child.ns === tombstones && child.local === 'deleted-entry') {
      const deleted = readDeletedEntry(child);
      if (deleted) items.push(deleted);
    }
  }
  return { ok: true, items };
}

function readEntry(entry: XmlElement): YouTubeFeedEntry | undefined {
  const videoId = textOf(childElement(entry, youtube, 'videoId'));
  const channelId = textOf(childElement(entry, youtube, 'channelId'));
  if (!isYouTubeVideoId(videoId) || !isYouTubeChannelId(channelId)) return undefined;
  const title = textOf(childElement(entry, atom, 'title'));
  return {
    kind: 'entry',
    videoId,
    channelId,
    title: title === undefined ? null : title.slice(0, 500),
    updatedMs: parseRfc3339(textOf(childElement(entry, atom, 'updated'))) ?? null,
  };
}

function readDeletedEntry(deleted: XmlElement): YouTubeDeletedEntry | undefined {
  const ref = attributeValue(deleted, 'ref');
  const videoId = ref?.startsWith('yt:video:') ? ref.slice('yt:video:'.length) : undefined;
  if (!isYouTubeVideoId(videoId)) return undefined;
  const by = childElements(deleted, tombstones, 'by')[0];
  const uri = by && textOf(childElement(by, atom, 'uri'));
  const channelId = uri ? /\/channel\/(UC[A-Za-z0-9_-]{22})$/.exec(uri)?.[1] : undefined;
  return {
    kind: 'deleted',
    videoId,
    channelId: channelId ?? null,
    deletedAtMs: parseRfc3339(attributeValue(deleted, 'when')) ?? null,
  };
}

function textOf(element: XmlElement | undefined): string | undefined {
  return element?.text.trim();
}
