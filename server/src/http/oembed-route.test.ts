import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nextStatus } from '../../../test/support/provider-fakes.js';
import { openSse } from '../../../test/support/sse-client.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';

interface OEmbedBody {
  version: string;
  type: string;
  title: string;
  provider_name: string;
  provider_url: string;
  author_name: string;
  html: string;
  width: number;
  height: number;
  cache_age: number;
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe('oEmbed GET /oembed', () => {
  let server: TestServer;
  let pageUrl: string;

  before(async () => {
    server = await startTestServer();
    pageUrl = `${server.url}/c/${TEST_CHANNEL}`;
  });
  after(() => server.close());

  const oembed = (query: string, init: RequestInit = {}) => server.request(`/oembed?${query}`, init);
  const forUrl = (url: string, extra = '') => oembed(`url=${encodeURIComponent(url)}&format=json${extra}`);

  it('describes one of our landing pages as oEmbed 1.0 JSON, open to every origin', async () => {
    const response = await forUrl(pageUrl);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json; charset=utf-8$/);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.match(response.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
    const body = (await response.json()) as OEmbedBody;
    assert.equal(body.version, '1.0');
    assert.equal(body.type, 'rich', 'no player: the badge is embedded');
    assert.equal(body.title, 'Acme Morning Show');
    assert.equal(body.author_name, 'Acme Morning Show');
    assert.equal(body.provider_name, 'live-upload');
    assert.equal(body.provider_url, server.url);
    assert.equal(body.width, 640);
    assert.equal(body.height, 360);
    assert.ok(body.cache_age > 0);
    assert.match(body.html, new RegExp(`^<iframe src="${pageUrl.replace(/[.?]/g, '\\$&')}\\?embed=1" width="640" height="360" title="Acme Morning Show"[^<]*></iframe>$`));
    // `format` is optional (json is the default); a query or fragment on the page URL names the same page.
    const plain = await oembed(`url=${encodeURIComponent(`${pageUrl}?embed=1#now`)}`);
    assert.equal(plain.status, 200);
    assert.equal(((await plain.json()) as OEmbedBody).html, body.html);
  });

  it('answers a preflight from any origin', async () => {
    const preflight = await oembed('url=x', { method: 'OPTIONS', headers: { Origin: 'https://blog.example', 'Access-Control-Request-Method': 'GET' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  });

  it('is a video once the channel has a player, sized within maxwidth and maxheight', async () => {
    const put = await server.request(`/api/v1/channels/${TEST_CHANNEL}`, {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Acme Morning Show', playback: { hls: 'https://cdn.example/acme.m3u8' }, providers: { twitch: { user_id: '4242', login: 'acme_live' } } }),
    });
    assert.equal(put.status, 200);
    const video = (await (await forUrl(pageUrl)).json()) as OEmbedBody;
    assert.equal(video.type, 'video');
    for (const [extra, width, height] of [
      ['&maxwidth=320', 320, 180],
      ['&maxheight=90', 160, 90],
      ['&maxwidth=400&maxheight=100', 177, 100],
      ['&maxwidth=5000&maxheight=5000', 640, 360],
      ['&maxwidth=1&maxheight=1', 1, 1],
    ] as const) {
      const response = await forUrl(pageUrl, extra);
      assert.equal(response.status, 200, extra);
      const body = (await response.json()) as OEmbedBody;
      assert.deepEqual([body.width, body.height], [width, height], extra);
      assert.match(body.html, new RegExp(`width="${width}" height="${height}"`), extra);
    }
  });

  it('escapes a hostile title inside the iframe html', async () => {
    const hostile = '"><script>alert(1)</script><iframe src="javascript:alert(2)';
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    try {
      await sse.next((event) => event.event === 'snapshot');
      const from = sse.events.length;
      await server.updateTitle(hostile);
      await nextStatus(sse, (record) => record.title === hostile, { fromIndex: from });
    } finally {
      sse.close();
    }
    const body = (await (await forUrl(pageUrl)).json()) as OEmbedBody;
    assert.equal(body?.title, hostile);
    assert.equal(body.html.match(/</g)?.length, 2, 'only <iframe and </iframe');
    assert.ok(body.html.includes('title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;iframe src=&quot;javascript:alert(2)"'));
  });

  it('answers 404 for any URL that is not one of our landing pages', async () => {
    const { port } = new URL(server.url);
    for (const url of [
      `http://evil.example/c/${TEST_CHANNEL}`,
      `http://127.0.0.1:${Number(port) + 1}/c/${TEST_CHANNEL}`,
      `http://localhost:${port}/c/${TEST_CHANNEL}`,
      `https://127.0.0.1:${port}/c/${TEST_CHANNEL}`,
      `http://user:pass@127.0.0.1:${port}/c/${TEST_CHANNEL}`,
      `http://127.0.0.1:${port}@evil.example/c/${TEST_CHANNEL}`,
      `${server.url}/c/acme/no-such-show`,
      `${server.url}/c/ACME/morning-show`,
      `${server.url}/c/acme%2Fmorning-show`,
      `${server.url}/c/acme/morning-show/`,
      `${server.url}/c/acme/morning-show/../morning-show`,
      `${server.url}/x/../c/${TEST_CHANNEL}`,
      `${server.url}/api/v1/channels/${TEST_CHANNEL}`,
      `${server.url}/oembed`,
      server.url,
      'javascript:alert(1)',
      `javascript://127.0.0.1:${port}/c/${TEST_CHANNEL}`,
      'data:text/html,<script>alert(1)</script>',
      `file:///c/${TEST_CHANNEL}`,
    ]) {
      const response = await forUrl(url);
      assert.equal(response.status, 404, url);
      assert.equal((await errorOf(response)).code, 'not_found', url);
      assert.equal(response.headers.get('access-control-allow-origin'), '*', 'errors are readable cross-origin too');
    }
  });

  it('answers 400 naming url when it is missing, repeated or not a URL', async () => {
    for (const query of ['format=json', 'url=&format=json', `url=${encodeURIComponent('not a url')}`, `url=${encodeURIComponent('/c/acme/morning-show')}`, `url=${encodeURIComponent(pageUrl)}&url=${encodeURIComponent(pageUrl)}`, `url=${encodeURIComponent(`${pageUrl}?${'x'.repeat(3000)}`)}`]) {
      const response = await oembed(query);
      assert.equal(response.status, 400, query.slice(0, 80));
      const error = await errorOf(response);
      assert.equal(error.code, 'bad_request');
      assert.match(error.message, /^url/, query.slice(0, 80));
    }
  });

  it('answers 501 for format=xml and 400 for any other format', async () => {
    const xml = await oembed(`url=${encodeURIComponent(pageUrl)}&format=xml`);
    assert.equal(xml.status, 501);
    assert.equal((await errorOf(xml)).code, 'not_implemented');
    for (const format of ['JSON', 'html', 'jsonp', '', 'json%00', 'json&format=xml']) {
      const response = await oembed(`url=${encodeURIComponent(pageUrl)}&format=${format}`);
      assert.equal(response.status, 400, format);
      assert.match((await errorOf(response)).message, /^format/, format);
    }
  });

  it('answers 400 naming maxwidth or maxheight unless it is a positive integer', async () => {
    for (const name of ['maxwidth', 'maxheight']) {
      for (const value of ['0', '-1', '1.5', 'abc', '1e3', '', '%205', '5px', '0x10', '12345678901', 'Infinity', 'NaN']) {
        const response = await forUrl(pageUrl, `&${name}=${value}`);
        assert.equal(response.status, 400, `${name}=${value}`);
        assert.match((await errorOf(response)).message, new RegExp(`^${name}`), `${name}=${value}`);
      }
      const repeated = await forUrl(pageUrl, `&${name}=100&${name}=200`);
      assert.equal(repeated.status, 400, `${name} repeated`);
      await repeated.arrayBuffer();
    }
  });
});
