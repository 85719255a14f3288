import { createHash } from 'node:crypto';
import Router from '@koa/router';
import {
  CHANNEL_PART_PATTERN,
  channelJsonLd,
  describeChannelPage,
  escapeHtml,
  formatChannelRef,
  openGraphTags,
  serializeJsonLd,
  type ChannelPage,
  type ChannelRef,
} from '@live-upload/schema';
import type { ChannelConfig, ChannelRegistry, UploadPolicy } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import type { LiveStatusHub } from '../live/index.js';
import type { VodStore } from '../vod-jobs/index.js';
import type { AppState } from './app-state.js';
import { elementPageCsp } from './element-page-csp.js';
import { latestPublicReplay, type PublicReplay } from './latest-public-replay.js';
import { replayJsonLd } from './replay-json-ld.js';
import { answeredNotModified, contentEtag } from './middleware/conditional-get.js';

/** `og:site_name` and the oEmbed `provider_name`. */
export const SITE_NAME = 'live-upload';

export interface LandingPageDeps {
  readonly channels: ChannelRegistry;
  readonly hub: LiveStatusHub;
  /** Where the outside world reaches this server: canonical URLs, the element's endpoint. */
  readonly publicUrl: () => string;
  /** Replay records: an offline channel's page shows its latest public replay. Absent: no replays. */
  readonly vods?: VodStore;
}

/** The replay an offline channel's page offers, its URLs absolute. */
export interface LandingPageReplay {
  readonly canonicalId: string;
  readonly title: string | undefined;
  /** The master playlist (`contentUrl`). */
  readonly masterUrl: string;
  readonly posterUrl: string | undefined;
  readonly durationSeconds: number | undefined;
  /** When it was published: the broadcast's end, else the record's last change. */
  readonly uploadDate: string;
}

/** What one landing page shows, besides the canonical record. */
export interface LandingPageView {
  readonly page: ChannelPage;
  /** `?embed=1`: the minimal page an oEmbed iframe shows (no heading, framable anywhere). */
  readonly embed: boolean;
  readonly uploads: UploadPolicy;
  /** The latest public replay, shown while the channel is offline. */
  readonly replay?: LandingPageReplay | undefined;
}

/** The page's one inline stylesheet; allowed by its hash in the CSP, like nothing else inline. */
const PAGE_STYLE =
  'body{margin:0;font:400 1rem/1.5 system-ui,sans-serif;color:#202124;background:#fff}' +
  'main{max-width:44rem;margin:0 auto;padding:1.5rem 1rem}' +
  'h1{font-size:1.5rem;margin:0 0 .75rem}p{margin:0 0 1rem;color:#5f6368}' +
  'body.embed main{max-width:none;padding:0}' +
  '.replay img{display:block;max-width:100%;height:auto;margin:0 0 .5rem}' +
  '@media (prefers-color-scheme:dark){body{color:#e8eaed;background:#202124}p{color:#bdc1c6}}';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

const STYLE_HASH = `'sha256-${sha256(PAGE_STYLE)}'`;

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * The page's Content-Security-Policy (see `elementPageCsp`): the JSON-LD block is data, never
 * executed, so no inline script is allowed at all; the one inline stylesheet by hash. The full
 * page is not framed by others; the embed page is, anywhere: that is what oEmbed is for.
 */
export function landingPageCsp(view: LandingPageView): string {
  return elementPageCsp({
    ourOrigin: originOf(view.page.providerUrl),
    playbackOrigin: view.page.record.playback ? originOf(view.page.record.playback.hls) : undefined,
    styleHashes: [STYLE_HASH],
    frameAncestors: view.embed ? '*' : "'self'",
  });
}

const attribute = (value: string) => `"${escapeHtml(value)}"`;

/** A stored replay as the page shows it: its paths on this server made absolute under `base`. */
export function landingPageReplay(record: PublicReplay, base: string): LandingPageReplay {
  return {
    canonicalId: record.canonical_id,
    title: record.title,
    masterUrl: `${base}${record.urls.master}`,
    posterUrl: record.urls.poster === undefined ? undefined : `${base}${record.urls.poster}`,
    durationSeconds: record.duration_s,
    uploadDate: record.ended_at ?? record.updated_at,
  };
}

/** The replay's JSON-LD block and its visible link (a poster when there is one), escaped. */
function replayParts(replay: LandingPageReplay, page: ChannelPage): { jsonLd: string; link: string } {
  const name = replay.title ?? `${page.channelName} (replay)`;
  const jsonLd = replayJsonLd({
    name,
    description: `Replay of a broadcast on ${page.channelName}: ${name}`,
    uploadDate: replay.uploadDate,
    contentUrl: replay.masterUrl,
    thumbnailUrl: replay.posterUrl,
    durationSeconds: replay.durationSeconds,
  });
  const poster = replay.posterUrl === undefined ? '' : `<img src=${attribute(replay.posterUrl)} alt="" width="640" height="360">`;
  const link = `<p class="replay"><a href=${attribute(replay.masterUrl)}>${poster}Watch the replay: ${escapeHtml(name)}</a></p>`;
  return { jsonLd: `<script type="application/ld+json">${serializeJsonLd(jsonLd)}</script>`, link };
}

/**
 * The landing page as HTML5: title, description, canonical and oEmbed discovery links, the
 * OpenGraph/Twitter tags, the JSON-LD, and the product itself (`<live-upload>`, or
 * `<live-badge>` for a channel without a player) from our own `/element/` bundle under the
 * channel's name. The live status and the broadcast title are shown by the element only, which
 * follows the live-status stream; the page's own text never states them (the OpenGraph and
 * JSON-LD do, for crawlers, as of the render). Every string that came from the network is
 * escaped; the JSON-LD is serialized so it cannot end its script.
 */
export function renderLandingPage(view: LandingPageView): string {
  const { page, embed } = view;
  const base = page.providerUrl;
  const element = page.hasPlayer ? 'live-upload' : 'live-badge';
  const elementAttributes = [`channel=${attribute(page.channel)}`, `endpoint=${attribute(base)}`];
  if (page.hasPlayer && view.uploads === 'off') elementAttributes.push('no-upload');
  // The element's audience beacons (issue 27) say where it was watched: here, or in an oEmbed
  // iframe (`?embed=1`); the badge of a channel without a player too, which stands for it here.
  elementAttributes.push(`beacon-surface=${attribute(embed ? 'oembed' : 'landing')}`);
  const meta = openGraphTags(page).map((tag) => `<meta ${tag.attribute}=${attribute(tag.key)} content=${attribute(tag.content)}>`);
  const indexable = page.record.is_public && !embed;
  // Offline only: while live, the page is the broadcast, not yesterday's.
  const replay = view.replay && !page.isLive ? replayParts(view.replay, page) : undefined;
  const head = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // The channel, never its status: a tab left open must not say LIVE after the stream ended.
    `<title>${escapeHtml(`${page.channelName} · ${page.siteName}`)}</title>`,
    `<meta name="description" content=${attribute(page.description)}>`,
    ...(indexable ? [] : ['<meta name="robots" content="noindex">']),
    '<link rel="icon" href="data:,">',
    `<link rel="canonical" href=${attribute(page.pageUrl)}>`,
    `<link rel="alternate" type="application/json+oembed" href=${attribute(page.oEmbedUrl)} title=${attribute(page.title)}>`,
    ...meta,
    `<script type="application/ld+json">${serializeJsonLd(channelJsonLd(page))}</script>`,
    ...(replay ? [replay.jsonLd] : []),
    `<script type="module" src=${attribute(`${base}/element/${element}.js`)}></script>`,
    `<style>${PAGE_STYLE}</style>`,
  ];
  const product = `<${element} ${elementAttributes.join(' ')}></${element}>`;
  // The element is the status (badge, broadcast title, player) and keeps itself current; text
  // written here would be stale after the next change. Without script, the status as rendered.
  const main = embed
    ? product
    : [`<h1>${escapeHtml(page.channelName)}</h1>`, product, ...(replay ? [replay.link] : []), `<noscript><p>${escapeHtml(page.description)}</p></noscript>`].join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    ...head,
    '</head>',
    `<body${embed ? ' class="embed"' : ''}>`,
    `<main>\n${main}\n</main>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** `:publisher/:slug` of a landing page; anything else (traversal, encoded slashes, case, length) is no page: 404. */
function landingPageChannel(params: Record<string, string | undefined>): ChannelRef {
  const { publisher, slug } = params;
  if (publisher === undefined || slug === undefined || !CHANNEL_PART_PATTERN.test(publisher) || !CHANNEL_PART_PATTERN.test(slug)) {
    throw new AppError('not_found', 'no such page');
  }
  return { publisher, slug };
}

/**
 * A channel's landing page data and config; undefined for a channel that does not exist. The
 * registry is asked first: an unknown name never reaches the hub.
 */
export async function readChannelPage(
  deps: LandingPageDeps,
  ref: ChannelRef,
): Promise<{ page: ChannelPage; config: ChannelConfig } | undefined> {
  const config = await deps.channels.get(ref);
  const current = config ? await deps.hub.current(formatChannelRef(ref)) : undefined;
  if (!config || !current) return undefined;
  const page = describeChannelPage({ record: current.record, publicUrl: deps.publicUrl(), channelTitle: config.title, siteName: SITE_NAME });
  return { page, config };
}

/**
 * `GET /c/:publisher/:slug` (and HEAD): a channel's public landing page, what the Bluesky
 * `#live` status and shared links point at. `?embed=1` is the minimal page oEmbed frames.
 * An offline channel whose replays are `public` also shows its latest published replay (a
 * link, its poster, and a `VideoObject` JSON-LD with `duration`, `uploadDate`, `thumbnailUrl`,
 * `contentUrl`); `unlisted` replays are never shown here: this page is public and indexed.
 * Revalidated by ETag (the status changes, so the cache is short).
 */
export function landingPageRoute(deps: LandingPageDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/c/:publisher/:slug', async (ctx) => {
    const ref = landingPageChannel(ctx.params);
    const found = await readChannelPage(deps, ref);
    if (!found) throw new AppError('not_found', `no channel ${formatChannelRef(ref)}`);
    const replay = deps.vods && !found.page.isLive ? await latestPublicReplay(deps.vods, found.config) : undefined;
    const view: LandingPageView = {
      page: found.page,
      embed: ctx.query['embed'] === '1',
      uploads: found.config.uploads,
      replay: replay ? landingPageReplay(replay, found.page.providerUrl) : undefined,
    };
    const html = renderLandingPage(view);
    const etag = contentEtag(html);
    ctx.set('Cache-Control', 'public, max-age=10, stale-while-revalidate=30');
    ctx.set('Content-Security-Policy', landingPageCsp(view));
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'strict-origin-when-cross-origin');
    if (answeredNotModified(ctx, etag)) return;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = html;
  });
  return router;
}
