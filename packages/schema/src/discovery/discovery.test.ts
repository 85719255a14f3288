import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultBadge } from '../badge.js';
import { createCanonicalId } from '../canonical-id.js';
import type { LiveMetadata } from '../live-metadata.js';
import { SCHEMA_VERSION } from '../version.js';
import { describeChannelPage, parseChannelPageUrl, type ChannelPageInput } from './channel-page.js';
import { escapeHtml } from './escape-html.js';
import { channelJsonLd } from './json-ld.js';
import { serializeJsonLd } from './json-ld-serialize.js';
import { openGraphTags } from './open-graph.js';
import { channelOEmbed, oEmbedSize } from './oembed.js';

const PUBLIC_URL = 'https://live.example';
const HOSTILE_TITLE = '</script><img src=x onerror=alert(1)>&"\'`\u2028\u2029<!--';

function record(overrides: Partial<LiveMetadata> = {}): LiveMetadata {
  return {
    version: SCHEMA_VERSION,
    canonical_id: createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, Date.parse('2026-03-01T18:00:00Z')),
    channel: 'acme/morning-show',
    providers: {},
    status: 'live',
    started_at: '2026-03-01T18:00:00Z',
    ended_at: null,
    title: 'Morning news',
    viewer_count: 12,
    latency_ms: null,
    is_public: true,
    tags: ['news', 'morning'],
    badge: defaultBadge('live'),
    updated_at: '2026-03-01T18:00:01.250Z',
    seq: 3,
    sources: {},
    playback: { hls: 'https://cdn.example/acme/live.m3u8' },
    ...overrides,
  };
}

const page = (overrides: Partial<LiveMetadata> = {}, input: Partial<ChannelPageInput> = {}) =>
  describeChannelPage({ record: record(overrides), publicUrl: `${PUBLIC_URL}/`, channelTitle: 'Acme Morning Show', siteName: 'live-upload', ...input });

describe('describeChannelPage', () => {
  it('names the page URLs from the public URL and the channel', () => {
    const live = page();
    assert.equal(live.pageUrl, 'https://live.example/c/acme/morning-show');
    assert.equal(live.embedUrl, 'https://live.example/c/acme/morning-show?embed=1');
    assert.equal(live.oEmbedUrl, 'https://live.example/oembed?url=https%3A%2F%2Flive.example%2Fc%2Facme%2Fmorning-show&format=json');
    assert.equal(live.providerUrl, PUBLIC_URL);
  });

  it('titles a live channel by its broadcast and an offline one by its name', () => {
    const live = page();
    assert.equal(live.title, 'Morning news');
    assert.equal(live.documentTitle, 'LIVE: Morning news');
    assert.match(live.description, /^Live now \(12 watching\): Acme Morning Show: Morning news\. Tags: news, morning\.$/);
    const offline = page({ status: 'offline', title: null, viewer_count: null, tags: [] }, { channelTitle: null });
    assert.equal(offline.title, 'acme/morning-show');
    assert.equal(offline.documentTitle, 'acme/morning-show');
    assert.match(offline.description, /is offline/);
    assert.equal(offline.isLive, false);
  });

  it('caps the description at 300 characters', () => {
    const long = page({ title: 'x'.repeat(512) });
    assert.equal(long.description.length, 300);
    assert.ok(long.description.endsWith('…'));
  });
});

describe('channelJsonLd', () => {
  it('is a VideoObject published as a live BroadcastEvent while live', () => {
    const ld = channelJsonLd(page());
    assert.equal(ld['@context'], 'https://schema.org');
    assert.equal(ld['@type'], 'VideoObject');
    assert.equal(ld.name, 'Morning news');
    assert.equal(ld.url, 'https://live.example/c/acme/morning-show');
    assert.equal(ld.embedUrl, 'https://live.example/c/acme/morning-show?embed=1');
    assert.equal(ld.contentUrl, 'https://cdn.example/acme/live.m3u8');
    assert.equal(ld.uploadDate, '2026-03-01T18:00:00Z');
    assert.equal(ld.keywords, 'news, morning');
    assert.deepEqual(ld.publication, [{ '@type': 'BroadcastEvent', isLiveBroadcast: true, startDate: '2026-03-01T18:00:00Z' }]);
    assert.equal(ld.thumbnailUrl, undefined, 'no poster, no thumbnail');
  });

  it('adds the endDate once the broadcast ended, and no publication for a channel never live', () => {
    const ended = channelJsonLd(page({ status: 'offline', ended_at: '2026-03-01T19:30:00Z' }));
    assert.deepEqual(ended.publication, [{ '@type': 'BroadcastEvent', isLiveBroadcast: true, startDate: '2026-03-01T18:00:00Z', endDate: '2026-03-01T19:30:00Z' }]);
    const relive = channelJsonLd(page({ status: 'live', ended_at: '2026-03-01T17:00:00Z' }));
    assert.equal(relive.publication?.[0]?.endDate, undefined, 'a live broadcast has no end yet');
    const never = channelJsonLd(page({ status: 'offline', started_at: null, ended_at: null, playback: undefined, tags: [] }));
    assert.equal(never.publication, undefined);
    assert.equal(never.uploadDate, undefined);
    assert.equal(never.contentUrl, undefined);
    assert.equal(never.keywords, undefined);
  });

  it('uses the poster as thumbnailUrl', () => {
    assert.equal(channelJsonLd(page({}, { poster: { url: 'https://live.example/media/p.jpg' } })).thumbnailUrl, 'https://live.example/media/p.jpg');
  });
});

describe('serializeJsonLd', () => {
  it('cannot end the script element, and parses back to the same value', () => {
    const value = channelJsonLd(page({ title: HOSTILE_TITLE, tags: ['</SCRIPT>'] }));
    const serialized = serializeJsonLd(value);
    assert.doesNotMatch(serialized, /[<>&\u2028\u2029]/);
    assert.ok(serialized.includes('\\u003c/script\\u003e'));
    assert.ok(serialized.includes('\\u2028') && serialized.includes('\\u2029') && serialized.includes('\\u0026'));
    assert.deepEqual(JSON.parse(serialized), value);
  });
});

describe('escapeHtml', () => {
  it('escapes every character that could open a tag or leave an attribute', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&\``), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;');
    assert.equal(escapeHtml('plain text'), 'plain text');
  });
});

describe('openGraphTags', () => {
  const content = (tags: ReturnType<typeof openGraphTags>, key: string) => tags.filter((tag) => tag.key === key).map((tag) => tag.content);

  it('describes a live channel as video.other with its state', () => {
    const tags = openGraphTags(page());
    assert.deepEqual(content(tags, 'og:type'), ['video.other']);
    assert.deepEqual(content(tags, 'og:title'), ['LIVE: Morning news']);
    assert.deepEqual(content(tags, 'og:url'), ['https://live.example/c/acme/morning-show']);
    assert.deepEqual(content(tags, 'og:site_name'), ['live-upload']);
    assert.deepEqual(content(tags, 'video:tag'), ['news', 'morning']);
    assert.deepEqual(content(tags, 'live-upload:status'), ['live']);
    assert.deepEqual(content(tags, 'twitter:card'), ['summary']);
    assert.deepEqual(content(tags, 'og:image'), [], 'no poster, no image');
    for (const tag of tags) assert.equal(tag.attribute, tag.key.startsWith('og:') || tag.key.startsWith('video:') ? 'property' : 'name', tag.key);
  });

  it('adds the image tags for a poster', () => {
    const tags = openGraphTags(page({ status: 'offline' }, { poster: { url: 'https://live.example/media/p.jpg', width: 1280, height: 720 } }));
    assert.deepEqual(content(tags, 'og:image'), ['https://live.example/media/p.jpg']);
    assert.deepEqual(content(tags, 'og:image:width'), ['1280']);
    assert.deepEqual(content(tags, 'og:image:height'), ['720']);
    assert.deepEqual(content(tags, 'twitter:card'), ['summary_large_image']);
    assert.deepEqual(content(tags, 'live-upload:status'), ['offline']);
  });
});

describe('channelOEmbed', () => {
  it('is an oEmbed 1.0 video with an iframe of the embed page', () => {
    const oembed = channelOEmbed(page());
    assert.equal(oembed.version, '1.0');
    assert.equal(oembed.type, 'video');
    assert.equal(oembed.title, 'Morning news');
    assert.equal(oembed.provider_name, 'live-upload');
    assert.equal(oembed.provider_url, PUBLIC_URL);
    assert.equal(oembed.author_name, 'Acme Morning Show');
    assert.equal(oembed.width, 640);
    assert.equal(oembed.height, 360);
    assert.ok(oembed.cache_age > 0);
    assert.match(oembed.html, /^<iframe src="https:\/\/live\.example\/c\/acme\/morning-show\?embed=1" width="640" height="360" title="Morning news"[^<]*><\/iframe>$/);
    assert.equal(oembed.thumbnail_url, undefined);
  });

  it('is rich without a player, and escapes the title in the iframe', () => {
    const oembed = channelOEmbed(page({ playback: undefined, title: HOSTILE_TITLE }));
    assert.equal(oembed.type, 'rich');
    assert.equal(oembed.title, HOSTILE_TITLE, 'JSON carries the title as it is');
    assert.equal(oembed.html.match(/</g)?.length, 2, 'only the iframe tags');
    assert.ok(oembed.html.includes('title="&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;&#96;'));
  });

  it('gives the three thumbnail fields together, only for a poster of known size', () => {
    const sized = channelOEmbed(page({}, { poster: { url: 'https://live.example/p.jpg', width: 1280, height: 720 } }));
    assert.deepEqual([sized.thumbnail_url, sized.thumbnail_width, sized.thumbnail_height], ['https://live.example/p.jpg', 1280, 720]);
    const unsized = channelOEmbed(page({}, { poster: { url: 'https://live.example/p.jpg' } }));
    assert.equal(unsized.thumbnail_url, undefined);
  });
});

describe('oEmbedSize', () => {
  it('keeps 16:9 within maxwidth and maxheight, never scaling up', () => {
    assert.deepEqual(oEmbedSize(), { width: 640, height: 360 });
    assert.deepEqual(oEmbedSize({ maxWidth: 320 }), { width: 320, height: 180 });
    assert.deepEqual(oEmbedSize({ maxHeight: 90 }), { width: 160, height: 90 });
    assert.deepEqual(oEmbedSize({ maxWidth: 400, maxHeight: 100 }), { width: 177, height: 100 });
    assert.deepEqual(oEmbedSize({ maxWidth: 4000, maxHeight: 4000 }), { width: 640, height: 360 });
    assert.deepEqual(oEmbedSize({ maxWidth: 1, maxHeight: 1 }), { width: 1, height: 1 });
    for (const [maxWidth, maxHeight] of [[333, 77], [17, 500], [641, 359], [2, 1]] as const) {
      const size = oEmbedSize({ maxWidth, maxHeight });
      assert.ok(size.width <= maxWidth && size.height <= maxHeight && size.width >= 1 && size.height >= 1, `${maxWidth}x${maxHeight}`);
    }
  });
});

describe('parseChannelPageUrl', () => {
  it('accepts our landing pages, with a query or fragment', () => {
    for (const url of ['https://live.example/c/acme/morning-show', 'https://live.example/c/acme/morning-show?embed=1', 'https://LIVE.example:443/c/acme/morning-show#x']) {
      assert.deepEqual(parseChannelPageUrl(PUBLIC_URL, url), { publisher: 'acme', slug: 'morning-show' }, url);
    }
    assert.deepEqual(parseChannelPageUrl('http://127.0.0.1:8080/base/', 'http://127.0.0.1:8080/base/c/a/b'), { publisher: 'a', slug: 'b' });
  });

  it('refuses other origins, other paths and hostile URLs', () => {
    for (const url of [
      'http://live.example/c/acme/morning-show',
      'https://evil.example/c/acme/morning-show',
      'https://live.example.evil.example/c/acme/morning-show',
      'https://user:pass@live.example/c/acme/morning-show',
      'https://live.example@evil.example/c/acme/morning-show',
      'https://live.example/c/acme',
      'https://live.example/c/acme/morning-show/',
      'https://live.example/c/acme/morning-show/x',
      'https://live.example/c/ACME/morning-show',
      'https://live.example/c/acme%2Fmorning-show',
      'https://live.example/c/acme/%6Dorning-show',
      'https://live.example/x/../c/acme/morning-show',
      'https://live.example/c/acme/%2e%2e/morning-show',
      'https://live.example/c/acme/' + 'a'.repeat(40),
      'https://live.example/api/v1/channels/acme/morning-show',
      'https://live.example',
      'https://live.example?/c/acme/morning-show',
      'https:live.example/c/acme/morning-show',
      '//live.example/c/acme/morning-show',
      '/c/acme/morning-show',
      'javascript:alert(1)//live.example/c/acme/morning-show',
      'data:text/html,<script>alert(1)</script>',
      'https://live.example/c/acme/morning-show\n',
      'https://live.example\\c\\acme\\morning-show',
      'https://live.example/c/acme/morning-show?' + 'x'.repeat(3000),
      '',
      'not a url',
    ]) {
      assert.equal(parseChannelPageUrl(PUBLIC_URL, url), undefined, url);
    }
  });
});
