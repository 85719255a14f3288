import type { ChannelPage } from './channel-page.js';
import { escapeHtml } from './escape-html.js';

/** The embed's size when the consumer sets no bounds: 16:9. */
export const OEMBED_DEFAULT_SIZE = { width: 640, height: 360 } as const;

/** How long (seconds) a consumer may cache the response: the iframe is live, its title is not. */
export const OEMBED_CACHE_AGE_SECONDS = 300;

/** A consumer's bounds: `maxwidth` / `maxheight`, positive integers (checked at the edge). */
export interface OEmbedBounds {
  readonly maxWidth?: number;
  readonly maxHeight?: number;
}

/** An oEmbed 1.0 response (https://oembed.com/ §2.3.4): `video` with a player, `rich` (badge only) otherwise. */
export interface OEmbedResponse {
  readonly version: '1.0';
  readonly type: 'video' | 'rich';
  readonly title: string;
  readonly author_name: string;
  readonly author_url: string;
  readonly provider_name: string;
  readonly provider_url: string;
  readonly cache_age: number;
  readonly html: string;
  readonly width: number;
  readonly height: number;
  readonly thumbnail_url?: string;
  readonly thumbnail_width?: number;
  readonly thumbnail_height?: number;
}

/** The embed's size: the default 16:9, scaled down (never up) to fit the consumer's bounds; at least 1x1. */
export function oEmbedSize(bounds: OEmbedBounds = {}): { width: number; height: number } {
  const { width: defaultWidth, height: defaultHeight } = OEMBED_DEFAULT_SIZE;
  const maxWidth = bounds.maxWidth ?? defaultWidth;
  const maxHeight = bounds.maxHeight ?? defaultHeight;
  const width = Math.max(1, Math.min(defaultWidth, maxWidth, Math.floor((maxHeight * defaultWidth) / defaultHeight)));
  const height = Math.max(1, Math.min(maxHeight, Math.round((width * defaultHeight) / defaultWidth)));
  return { width, height };
}

/**
 * The oEmbed response for a channel's landing page: an `<iframe>` of its embed mode
 * (`?embed=1`), every attribute escaped, sized within `maxwidth`/`maxheight`. The thumbnail
 * fields appear together, only for a poster of known size (the spec requires all three).
 */
export function channelOEmbed(page: ChannelPage, bounds: OEmbedBounds = {}): OEmbedResponse {
  const { width, height } = oEmbedSize(bounds);
  const html =
    `<iframe src="${escapeHtml(page.embedUrl)}" width="${width}" height="${height}" title="${escapeHtml(page.title)}"` +
    ` style="border:0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen loading="lazy"` +
    ` referrerpolicy="strict-origin-when-cross-origin"></iframe>`;
  const { poster } = page;
  const thumbnail =
    poster?.width !== undefined && poster.height !== undefined ? { thumbnail_url: poster.url, thumbnail_width: poster.width, thumbnail_height: poster.height } : {};
  return {
    version: '1.0',
    type: page.hasPlayer ? 'video' : 'rich',
    title: page.title,
    author_name: page.channelName,
    author_url: page.pageUrl,
    provider_name: page.siteName,
    provider_url: page.providerUrl,
    cache_age: OEMBED_CACHE_AGE_SECONDS,
    html,
    width,
    height,
    ...thumbnail,
  };
}
