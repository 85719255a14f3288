import type { ChannelPage } from './channel-page.js';

/** One `<meta>` as data: OpenGraph uses `property`, Twitter cards and the rest `name`. */
export interface MetaTag {
  readonly attribute: 'property' | 'name';
  readonly key: string;
  readonly content: string;
}

const property = (key: string, content: string): MetaTag => ({ attribute: 'property', key, content });
const name = (key: string, content: string): MetaTag => ({ attribute: 'name', key, content });

/**
 * OpenGraph (`og:type` `video.other`) and Twitter card tags for a channel's landing page, plus
 * its live state (`live-upload:status`, and `video:release_date` for the broadcast start).
 * The image tags appear only when the channel has a poster. Contents are plain text: the page
 * escapes them.
 */
export function openGraphTags(page: ChannelPage): MetaTag[] {
  const { record, poster } = page;
  const tags: MetaTag[] = [
    property('og:type', 'video.other'),
    property('og:site_name', page.siteName),
    property('og:title', page.documentTitle),
    property('og:description', page.description),
    property('og:url', page.pageUrl),
  ];
  if (poster) {
    tags.push(property('og:image', poster.url), property('og:image:alt', page.title));
    if (poster.width !== undefined) tags.push(property('og:image:width', String(poster.width)));
    if (poster.height !== undefined) tags.push(property('og:image:height', String(poster.height)));
  }
  if (record.started_at !== null) tags.push(property('video:release_date', record.started_at));
  for (const tag of record.tags) tags.push(property('video:tag', tag));
  tags.push(
    name('twitter:card', poster ? 'summary_large_image' : 'summary'),
    name('twitter:title', page.documentTitle),
    name('twitter:description', page.description),
  );
  if (poster) tags.push(name('twitter:image', poster.url), name('twitter:image:alt', page.title));
  tags.push(name('live-upload:status', record.status));
  return tags;
}
