import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createCanonicalId, escapeHtml } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { nextStatus } from '../../../test/support/provider-fakes.js';
import { openSse, type SseClient } from '../../../test/support/sse-client.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { rawGet } from '../../../test/support/raw-get.js';
import { VodStore, type VodRecord, type VodState } from '../vod-jobs/index.js';

const HOSTILE_TITLE = '</script><img src=x onerror=alert(1)><!-- "quoted" & \'single\' \u2028';
const PLAYBACK = 'https://cdn.example/acme/live.m3u8';

/** What a crawler reads from the page: a tolerant look at the tags we emit. */
interface ParsedPage {
  readonly html: string;
  readonly title: string | undefined;
  readonly meta: Map<string, string[]>;
  readonly links: Array<Record<string, string>>;
  readonly jsonLd: Record<string, unknown>[];
  readonly styles: string[];
  readonly scripts: Array<Record<string, string>>;
  readonly h1: string | undefined;
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' })[name]!);
}

function attributesOf(tag: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [, name, value] of tag.matchAll(/([a-z:-]+)(?:="([^"]*)")?/g)) attributes[name!] = decodeEntities(value ?? '');
  return attributes;
}

function parsePage(html: string): ParsedPage {
  const meta = new Map<string, string[]>();
  for (const [, attributes] of html.matchAll(/<meta ([^>]*)>/g)) {
    const parsed = attributesOf(attributes!);
    const key = parsed['property'] ?? parsed['name'];
    if (key !== undefined && parsed['content'] !== undefined) meta.set(key, [...(meta.get(key) ?? []), parsed['content']]);
  }
  return {
    html,
    title: html.match(/<title>([^<]*)<\/title>/)?.[1],
    meta,
    links: [...html.matchAll(/<link ([^>]*)>/g)].map(([, attributes]) => attributesOf(attributes!)),
    jsonLd: [...html.matchAll(/<script type="application\/ld\+json">([^<]*)<\/script>/g)].map(([, json]) => JSON.parse(json!) as Record<string, unknown>),
    styles: [...html.matchAll(/<style>([^<]*)<\/style>/g)].map(([, css]) => css!),
    scripts: [...html.matchAll(/<script ([^>]*)>/g)].map(([, attributes]) => attributesOf(attributes!)),
    h1: html.match(/<h1>([^<]*)<\/h1>/)?.[1],
  };
}


const cspDirective = (csp: string, name: string) => csp.split(';').map((part) => part.trim()).find((part) => part.startsWith(`${name} `));

describeEachBus('landing page GET /c/:publisher/:slug', (bus) => {
  let server: TestServer;
  let sse: SseClient | undefined;

  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), graceMs: 200 });
    sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    await sse.next((event) => event.event === 'snapshot');
  });
  after(async () => {
    sse?.close();
    await server.close();
  });

  const page = async (path = `/c/${TEST_CHANNEL}`, headers: Record<string, string> = {}) => {
    const response = await server.request(path, { headers });
    return { response, parsed: parsePage(await response.text()) };
  };

  it('serves an offline channel as HTML with its title, OG tags, JSON-LD, canonical and oEmbed links, and the badge', async () => {
    const { response, parsed } = await page();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(parsed.html, /^<!doctype html>\n<html lang="en">/);
    assert.equal(parsed.title, 'Acme Morning Show · live-upload');
    assert.match(parsed.meta.get('description')?.[0] ?? '', /^Acme Morning Show is offline/);
    assert.deepEqual(parsed.meta.get('og:type'), ['video.other']);
    assert.deepEqual(parsed.meta.get('og:title'), ['Acme Morning Show']);
    assert.deepEqual(parsed.meta.get('og:url'), [`${server.url}/c/${TEST_CHANNEL}`]);
    assert.deepEqual(parsed.meta.get('og:site_name'), ['live-upload']);
    assert.deepEqual(parsed.meta.get('live-upload:status'), ['offline']);
    assert.equal(parsed.meta.get('og:image'), undefined, 'no poster, no image tag');
    assert.deepEqual(
      parsed.links.find((link) => link['rel'] === 'canonical'),
      { rel: 'canonical', href: `${server.url}/c/${TEST_CHANNEL}` },
    );
    const oembedLink = parsed.links.find((link) => link['rel'] === 'alternate' && link['type'] === 'application/json+oembed');
    assert.equal(oembedLink?.['href'], `${server.url}/oembed?url=${encodeURIComponent(`${server.url}/c/${TEST_CHANNEL}`)}&format=json`);
    assert.equal(parsed.jsonLd.length, 1);
    const ld = parsed.jsonLd[0]!;
    assert.equal(ld['@type'], 'VideoObject');
    assert.equal(ld['name'], 'Acme Morning Show');
    assert.equal(ld['url'], `${server.url}/c/${TEST_CHANNEL}`);
    assert.equal(ld['embedUrl'], `${server.url}/c/${TEST_CHANNEL}?embed=1`);
    assert.equal(ld['publication'], undefined, 'never live: no broadcast');
    assert.match(parsed.html, new RegExp(`<live-badge channel="${TEST_CHANNEL}" endpoint="${server.url}" beacon-surface="landing"></live-badge>`), 'its beacons count the landing page');
    assert.deepEqual(
      parsed.scripts.filter((script) => script['src'] !== undefined),
      [{ type: 'module', src: `${server.url}/element/live-badge.js` }],
      'the badge bundle, from our own /element/',
    );
    assert.equal(parsed.h1, 'Acme Morning Show');
  });

  it('sends a CSP that allows no inline script, our bundle, and the one stylesheet by its hash', async () => {
    const { response, parsed } = await page();
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.equal(cspDirective(csp, 'default-src'), "default-src 'none'");
    assert.equal(cspDirective(csp, 'script-src'), `script-src 'self' ${server.url}`);
    assert.equal(cspDirective(csp, 'frame-ancestors'), "frame-ancestors 'self'");
    assert.equal(parsed.styles.length, 1);
    const hash = createHash('sha256').update(parsed.styles[0]!, 'utf8').digest('base64');
    assert.equal(cspDirective(csp, 'style-src'), `style-src 'sha256-${hash}'`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.match(response.headers.get('cache-control') ?? '', /^public, max-age=\d{1,2}\b/);
  });

  it('names the channel once and leaves status and broadcast title to the element: no page text to go stale', async () => {
    const { parsed } = await page();
    const body = parsed.html.slice(parsed.html.indexOf('<body'));
    assert.equal(parsed.h1, 'Acme Morning Show');
    assert.equal([...body.matchAll(/Acme Morning Show/g)].length, 2, 'the heading, and the no-script line');
    const scripted = body.replace(/<noscript>[\s\S]*?<\/noscript>/g, '');
    assert.equal([...scripted.matchAll(/Acme Morning Show/g)].length, 1, 'with script, the heading only');
    assert.doesNotMatch(scripted, /offline|live now/i, 'no status in the page text: the badge is the status');
    assert.match(body, /<noscript><p>Acme Morning Show is offline right now\./);
  });

  it('answers 304 to a matching If-None-Match, and HEAD with the same validators and no body', async () => {
    const first = await server.request(`/c/${TEST_CHANNEL}`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag');
    assert.match(etag ?? '', /^"[A-Za-z0-9_-]{20,}"$/);
    const revalidated = await server.request(`/c/${TEST_CHANNEL}`, { headers: { 'If-None-Match': `"other", W/${etag}`, 'Cache-Control': 'no-cache' } });
    assert.equal(revalidated.status, 304);
    assert.equal(await revalidated.text(), '');
    assert.equal(revalidated.headers.get('etag'), etag);
    const stale = await server.request(`/c/${TEST_CHANNEL}`, { headers: { 'If-None-Match': '"not-this-one"' } });
    assert.equal(stale.status, 200);
    await stale.arrayBuffer();
    const head = await server.request(`/c/${TEST_CHANNEL}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('etag'), etag);
    assert.equal(head.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await head.text(), '');
  });

  it('renders a LIVE channel with its player, the live state, a BroadcastEvent, and a new ETag', async () => {
    assert.ok(sse);
    const before = await server.request(`/c/${TEST_CHANNEL}`);
    await before.arrayBuffer();
    const from = sse.events.length;
    const put = await server.request(`/api/v1/channels/${TEST_CHANNEL}`, {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Acme Morning Show', uploads: 'open', playback: { hls: PLAYBACK }, providers: { twitch: { user_id: '4242', login: 'acme_live' } } }),
    });
    assert.equal(put.status, 200, await put.clone().text());
    await server.goLive('Morning news, live');
    const live = await nextStatus(sse, (record) => record.status === 'live' && record.title === 'Morning news, live' && record.playback !== undefined, { fromIndex: from });

    const { response, parsed } = await page();
    assert.equal(response.status, 200);
    assert.notEqual(response.headers.get('etag'), before.headers.get('etag'), 'the page changed, so did its ETag');
    assert.equal(parsed.title, 'Acme Morning Show · live-upload', 'the tab names the channel; only the badge says LIVE');
    assert.deepEqual(parsed.meta.get('og:title'), ['LIVE: Morning news, live']);
    assert.deepEqual(parsed.meta.get('live-upload:status'), ['live']);
    assert.deepEqual(parsed.meta.get('video:release_date'), [live.started_at]);
    assert.match(parsed.meta.get('description')?.[0] ?? '', /^Live now/);
    const ld = parsed.jsonLd[0]!;
    assert.equal(ld['name'], 'Morning news, live');
    assert.equal(ld['contentUrl'], PLAYBACK);
    assert.equal(ld['uploadDate'], live.started_at);
    assert.deepEqual(ld['publication'], [{ '@type': 'BroadcastEvent', isLiveBroadcast: true, startDate: live.started_at }]);
    assert.match(parsed.html, new RegExp(`<live-upload channel="${TEST_CHANNEL}" endpoint="${server.url}" beacon-surface="landing"></live-upload>`));
    assert.ok(parsed.scripts.some((script) => script['src'] === `${server.url}/element/live-upload.js`));
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.equal(cspDirective(csp, 'media-src'), `media-src 'self' ${server.url} https://cdn.example blob:`);
    assert.equal(cspDirective(csp, 'connect-src'), `connect-src 'self' ${server.url} https://cdn.example`);

    const offlineFrom = sse.events.length;
    await server.goOffline();
    const ended = await nextStatus(sse, (record) => record.status === 'offline', { fromIndex: offlineFrom, timeoutMs: 5_000 });
    const after = await page();
    assert.deepEqual(after.parsed.jsonLd[0]!['publication'], [{ '@type': 'BroadcastEvent', isLiveBroadcast: true, startDate: live.started_at, endDate: ended.ended_at }]);
    assert.deepEqual(after.parsed.meta.get('live-upload:status'), ['offline']);
  });

  it('renders a hostile broadcast title inert: escaped in HTML, unable to leave the JSON-LD script', async () => {
    assert.ok(sse);
    const from = sse.events.length;
    await server.goLive(HOSTILE_TITLE);
    await nextStatus(sse, (record) => record.status === 'live' && record.title === HOSTILE_TITLE, { fromIndex: from });
    const { parsed } = await page();
    assert.doesNotMatch(parsed.html, /<img|<!--|onerror="/i);
    assert.equal([...parsed.html.matchAll(/<script/g)].length, 2, 'the JSON-LD and the bundle, nothing more');
    assert.equal([...parsed.html.matchAll(/<\/script>/g)].length, 2);
    assert.equal(parsed.jsonLd[0]!['name'], HOSTILE_TITLE, 'the JSON-LD still carries the title exactly');
    assert.equal(parsed.h1, 'Acme Morning Show');
    assert.ok(parsed.html.includes(`<noscript><p>${escapeHtml(`Live now: Acme Morning Show: ${HOSTILE_TITLE}`)}`), 'escaped in the no-script line');
    assert.deepEqual(parsed.meta.get('og:title'), [`LIVE: ${HOSTILE_TITLE}`]);
    const offlineFrom = sse.events.length;
    await server.goOffline();
    await nextStatus(sse, (record) => record.status === 'offline', { fromIndex: offlineFrom, timeoutMs: 5_000 });
  });

  it('serves ?embed=1 as the minimal page an oEmbed iframe shows, framable anywhere, not indexed', async () => {
    const { response, parsed } = await page(`/c/${TEST_CHANNEL}?embed=1`);
    assert.equal(response.status, 200);
    assert.equal(parsed.h1, undefined);
    assert.match(parsed.html, /<body class="embed">\n<main>\n<live-upload /);
    assert.deepEqual(parsed.meta.get('robots'), ['noindex']);
    assert.equal(cspDirective(response.headers.get('content-security-policy') ?? '', 'frame-ancestors'), 'frame-ancestors *');
  });

  it('answers 404 JSON for unknown channels and hostile paths', async () => {
    for (const path of [
      '/c/acme/no-such-show',
      '/c/ACME/morning-show',
      '/c/acme/Morning-Show',
      '/c/-acme/morning-show',
      `/c/acme/${'a'.repeat(40)}`,
      '/c/acme/morning-show/extra',
      '/c/acme',
      '/c/acme%2Fmorning-show/x',
      '/c/acme/morning-show%2F..',
      '/c/..%2F..%2Fetc/passwd',
      '/c/%2e%2e/%2e%2e',
      '/c/../../etc/passwd',
      '/c/acme/morning-show%00',
      '/c/acme/%E0%A4%A',
      '/c/acme/morning%20show',
      '/c/acme/<script>',
    ]) {
      const response = await rawGet(server.url, path);
      assert.equal(response.status, 404, path);
      assert.match(response.type, /^application\/json/, path);
      assert.equal((JSON.parse(response.body) as { error: { code: string } }).error.code, 'not_found', path);
      assert.ok(!response.body.includes('<script>'), 'the path is not echoed as markup');
    }
    const post = await server.request(`/c/${TEST_CHANNEL}`, { method: 'POST' });
    assert.equal(post.status, 405);
    await post.arrayBuffer();
  });

  it('its oEmbed discovery link answers, and the embed it describes is this page in embed mode', async () => {
    const { parsed } = await page();
    const href = parsed.links.find((link) => link['type'] === 'application/json+oembed')?.['href'];
    assert.ok(href);
    const oembed = await fetch(href);
    assert.equal(oembed.status, 200);
    const body = (await oembed.json()) as { html: string; type: string };
    assert.equal(body.type, 'video');
    const src = decodeEntities(body.html.match(/<iframe src="([^"]*)"/)?.[1] ?? '');
    assert.equal(src, `${server.url}/c/${TEST_CHANNEL}?embed=1`);
    const framed = await fetch(src);
    assert.equal(framed.status, 200);
    await framed.arrayBuffer();
    assert.match(framed.headers.get('content-security-policy') ?? '', /frame-ancestors \*/);
  });
});

/** The offline page's replay (issue 21): shown for `public` replays only, on the real app with the VOD worker off. */
describe('landing page of an offline channel: its latest replay', () => {
  const REPLAY_TITLE = '</script><script>alert(1)</script> & "last night"';
  let server: TestServer;
  let vods: VodStore;

  before(async () => {
    server = await startTestServer({ withChannel: false, env: { WORKERS: 'moderation' } });
    vods = await VodStore.open(server.running.bus);
    for (const [slug, vod] of [['public-show', 'public'], ['unlisted-show', 'unlisted'], ['empty-show', 'public']] as const) {
      const response = await server.request(`/api/v1/channels/acme/${slug}`, {
        method: 'PUT',
        admin: true,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: `Acme ${slug}`, vod, providers: {} }),
      });
      assert.equal(response.status, 201, await response.clone().text());
    }
  });
  after(() => server.close());

  /** A replay of `acme/{slug}` started `minute` minutes after noon, 2026-01-01, in `state`. */
  async function seed(slug: string, minute: number, state: VodState, extra: Partial<VodRecord> = {}): Promise<VodRecord> {
    const startedMs = Date.UTC(2026, 0, 1, 12, minute);
    const canonicalId = createCanonicalId({ publisher: 'acme', slug }, startedMs);
    const ulid = canonicalId.split(':').at(-1)!;
    const record: VodRecord = {
      canonical_id: canonicalId,
      channel: `acme/${slug}`,
      state,
      started_at: new Date(startedMs).toISOString(),
      updated_at: new Date(startedMs + 3_600_000).toISOString(),
      ...(state === 'published'
        ? { urls: { master: `/vod/acme/${slug}/${ulid}/master.m3u8`, poster: `/vod/acme/${slug}/${ulid}/poster.jpg` } }
        : {}),
      ...extra,
    };
    await vods.update(canonicalId, () => record);
    return record;
  }

  const page = async (slug: string) => {
    const response = await server.request(`/c/acme/${slug}`);
    assert.equal(response.status, 200);
    return { response, parsed: parsePage(await response.text()) };
  };

  it('shows the newest published public replay: a VideoObject with exact fields, and a poster link', async () => {
    await seed('public-show', 0, 'published', { title: 'Older show', duration_s: 60, ended_at: '2026-01-01T12:01:00.000Z' });
    const shown = await seed('public-show', 10, 'published', { title: REPLAY_TITLE, duration_s: 3_725.4, ended_at: '2026-01-01T13:12:05.000Z' });
    await seed('public-show', 20, 'transcoding', { progress: { percent: 50 } });
    const { response, parsed } = await page('public-show');
    assert.equal(parsed.jsonLd.length, 2, 'the channel, then its replay');
    assert.equal(parsed.jsonLd[0]!['name'], 'Acme public-show');
    assert.deepEqual(parsed.jsonLd[1], {
      '@context': 'https://schema.org',
      '@type': 'VideoObject',
      name: REPLAY_TITLE,
      description: `Replay of a broadcast on Acme public-show: ${REPLAY_TITLE}`,
      uploadDate: '2026-01-01T13:12:05.000Z',
      contentUrl: `${server.url}${shown.urls!.master}`,
      thumbnailUrl: `${server.url}${shown.urls!.poster!}`,
      duration: 'PT1H2M5S',
    });
    const body = parsed.html.slice(parsed.html.indexOf('<body'));
    assert.ok(
      body.includes(
        `<p class="replay"><a href="${server.url}${shown.urls!.master}"><img src="${server.url}${shown.urls!.poster!}" alt="" width="640" height="360">Watch the replay: ${escapeHtml(REPLAY_TITLE)}</a></p>`,
      ),
      body,
    );
    assert.doesNotMatch(parsed.html, /<script>|alert\(1\)<\/script>/, 'the hostile title is inert');
    assert.equal([...parsed.html.matchAll(/<script/g)].length, 3, 'two JSON-LD blocks and the bundle, nothing more');
    assert.equal([...parsed.html.matchAll(/<\/script>/g)].length, 3);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.equal(cspDirective(csp, 'style-src'), `style-src 'sha256-${createHash('sha256').update(parsed.styles[0]!, 'utf8').digest('base64')}'`);
    assert.match(cspDirective(csp, 'img-src') ?? '', new RegExp(`'self' ${server.url}( |$)`), 'the poster is ours');
  });

  it('uses the record\'s last change when the broadcast has no end, and leaves out what is unknown', async () => {
    const record = await seed('empty-show', 0, 'published', { urls: { master: '/vod/acme/empty-show/x/master.m3u8' } });
    const { parsed } = await page('empty-show');
    assert.deepEqual(parsed.jsonLd[1], {
      '@context': 'https://schema.org',
      '@type': 'VideoObject',
      name: 'Acme empty-show (replay)',
      description: 'Replay of a broadcast on Acme empty-show: Acme empty-show (replay)',
      uploadDate: record.updated_at,
      contentUrl: `${server.url}/vod/acme/empty-show/x/master.m3u8`,
    });
    assert.doesNotMatch(parsed.html, /<img/, 'no poster, no image');
  });

  it('shows no replay for unlisted replays, nor for a channel with none published', async () => {
    await seed('unlisted-show', 0, 'published', { title: 'By link only', duration_s: 10 });
    const unlisted = await page('unlisted-show');
    assert.equal(unlisted.parsed.jsonLd.length, 1, 'the channel only');
    assert.equal(unlisted.parsed.jsonLd[0]!['contentUrl'], undefined);
    assert.doesNotMatch(unlisted.parsed.html, /Watch the replay|By link only|\/vod\//);

    const response = await server.request('/api/v1/channels/acme/nothing-show', {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ vod: 'public', providers: {} }),
    });
    assert.equal(response.status, 201);
    await seed('nothing-show', 0, 'failed');
    await seed('nothing-show', 1, 'queued');
    const none = await page('nothing-show');
    assert.equal(none.parsed.jsonLd.length, 1);
    assert.doesNotMatch(none.parsed.html, /Watch the replay/);
  });
});
