import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import { loadConfig } from '../config.js';
import { createLogger } from '../observability/index.js';
import { startServer, type RunningServer } from '../start-server.js';
import { nextStatus } from '../../../test/support/provider-fakes.js';
import { openSse } from '../../../test/support/sse-client.js';
import { eventually } from '../../../test/support/eventually.js';
import { playlistSegments, playlistWhen, processRuns } from '../../../test/fixtures/live-playlist.js';
import { DemoLiveStream } from './demo-live-stream.js';
import { demoRoutes } from './demo-routes.js';
import { linkDemoPlayback } from './link-demo-playback.js';

describe('demo mode', () => {
  let server: RunningServer;
  let live: DemoLiveStream;

  before(async () => {
    const config = loadConfig({ PORT: '0', OFFLINE_GRACE_MS: '200', COALESCE_MS: '50', DEMO: '1', LOG_LEVEL: 'silent' });
    const logger = createLogger({ level: 'silent' });
    const opened = await DemoLiveStream.open({ logger });
    assert.ok(opened, 'ffmpeg is installed on this machine');
    live = opened;
    server = await startServer(config, { logger, extraRoutes: async (parts) => [await demoRoutes({ ...parts, live })] });
    await linkDemoPlayback({ url: server.url, publicUrl: server.config.publicUrl, adminToken: server.config.adminToken });
  });
  after(async () => {
    await server.close();
    await live.close();
  });

  const simulate = (body: string, contentType = 'application/json') =>
    fetch(`${server.url}/demo/api/simulate`, { method: 'POST', headers: { 'Content-Type': contentType }, body });

  it('serves the demo page', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<live-badge channel="acme\/morning-show"/);
  });

  it('isolates the demo pages (COOP + COEP) so the element gets multi-threaded FFmpeg', async () => {
    for (const path of ['/', '/moderation']) {
      const page = await fetch(`${server.url}${path}`);
      assert.equal(page.status, 200, path);
      assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp', path);
      await page.arrayBuffer();
    }
  });

  const directives = (csp: string | null) => new Map((csp ?? '').split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources.join(' ')]));

  it('sends the page with the element a strict CSP (its HLS allowed, nothing inline), no framing, nosniff', async () => {
    const response = await fetch(`${server.url}/`);
    await response.arrayBuffer();
    const csp = directives(response.headers.get('content-security-policy'));
    assert.equal(csp.get('default-src'), "'none'");
    assert.equal(csp.get('script-src'), "'self'");
    assert.equal(csp.get('style-src'), "'self'", 'demo.css, nothing inline');
    assert.equal(csp.get('connect-src'), `'self' ${new URL(server.url).origin}`, 'the API and the demo channel\'s HLS');
    assert.equal(csp.get('frame-ancestors'), "'none'");
    assert.equal(csp.get('base-uri'), "'none'");
    assert.equal(csp.get('form-action'), "'none'");
    assert.doesNotMatch(response.headers.get('content-security-policy') ?? '', /unsafe-inline|unsafe-eval/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  });

  it('sends the token page (/moderation) a CSP for its own script, styles, API and blob: previews and evidence frames only, and no referrer', async () => {
    const response = await fetch(`${server.url}/moderation`);
    await response.arrayBuffer();
    assert.deepEqual(
      Object.fromEntries(directives(response.headers.get('content-security-policy'))),
      {
        'default-src': "'none'",
        'script-src': "'self'",
        'style-src': "'self'",
        'img-src': "'self' blob:",
        'media-src': 'blob:',
        'connect-src': "'self'",
        'base-uri': "'none'",
        'form-action': "'none'",
        'frame-ancestors': "'none'",
      },
    );
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    for (const path of ['/demo.css', '/demo.js', '/moderation.js']) {
      const asset = await fetch(`${server.url}${path}`);
      await asset.arrayBuffer();
      assert.equal(asset.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });

  it('has no inline script, inline style or style attribute in its pages', async () => {
    for (const path of ['/', '/moderation']) {
      const html = await (await fetch(`${server.url}${path}`)).text();
      for (const [, attributes] of html.matchAll(/<script\b([^>]*)>/g)) assert.match(attributes!, /\bsrc="\/[^"]+"/, `${path}: every script is a file of ours`);
      assert.doesNotMatch(html, /<style\b/, path);
      assert.doesNotMatch(html, /\sstyle=/, path);
      assert.doesNotMatch(html, /\son[a-z]+=/i, `${path}: no inline event handler`);
    }
  });

  it('serves a favicon (the SVG the pages link, and at /favicon.ico), not a 404', async () => {
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'image/svg+xml', path);
      assert.match(await response.text(), /^<svg /, path);
    }
    assert.match(await (await fetch(`${server.url}/`)).text(), /<link rel="icon" href="\/favicon.svg"/);
  });

  it('drives the demo channel through the real, signed webhook', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=acme/morning-show`);
    try {
      await sse.next((event) => event.event === 'snapshot');
      const online = await simulate(JSON.stringify({ action: 'online' }));
      assert.equal(online.status, 202);
      assert.deepEqual(await online.json(), { action: 'online', webhook_status: 204, streamer: { streaming: true, title: null, grace_window_ms: 200, offline_in_ms: null } });
      await sse.next((event) => (JSON.parse(event.data) as LiveMetadata).status === 'live');
      assert.equal((await simulate(JSON.stringify({ action: 'update', title: '<img src=x onerror=alert(1)>' }))).status, 202);
      const titled = await sse.next((event) => (JSON.parse(event.data) as LiveMetadata).title !== 'Acme Morning Show');
      assert.equal((JSON.parse(titled.data) as LiveMetadata).title, '<img src=x onerror=alert(1)>');
      assert.equal((await simulate(JSON.stringify({ action: 'offline' }))).status, 202);
      await sse.next((event) => (JSON.parse(event.data) as LiveMetadata).status === 'offline');
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /live_upload_webhook_results_total\{provider="twitch",outcome="accepted"\} 3/);
    } finally {
      sse.close();
    }
  });

  it('Go live with a title goes live with that title, and the streamer state says streaming, then the grace window left', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=acme/morning-show`);
    try {
      const snapshot = JSON.parse((await sse.next((event) => event.event === 'snapshot')).data) as LiveMetadata;
      // An earlier test may have left the channel in its grace window.
      if (snapshot.status !== 'offline') await nextStatus(sse, (record) => record.status === 'offline');
      const title = 'Title typed before Go live';
      const from = sse.events.length;
      const online = await simulate(JSON.stringify({ action: 'online', title }));
      assert.equal(online.status, 202);
      assert.deepEqual(((await online.json()) as { streamer: unknown }).streamer, { streaming: true, title, grace_window_ms: 200, offline_in_ms: null });
      const live = await nextStatus(sse, (record) => record.status === 'live', { fromIndex: from });
      assert.equal(live.title, title, 'the first LIVE already carries the typed title');

      const offlineFrom = sse.events.length;
      const offline = await simulate(JSON.stringify({ action: 'offline' }));
      const { streamer } = (await offline.json()) as { streamer: { streaming: boolean; offline_in_ms: number } };
      assert.equal(streamer.streaming, false);
      assert.ok(streamer.offline_in_ms > 0 && streamer.offline_in_ms <= 200, `the grace window left: ${streamer.offline_in_ms} ms`);
      await nextStatus(sse, (record) => record.status === 'offline', { fromIndex: offlineFrom });
      // The streamer's countdown starts when the webhook answered, a moment after the event's own time that the server's grace counts from.
      const state = await eventually(async () => {
        const response = await fetch(`${server.url}/demo/api/streamer`);
        const view = (await response.json()) as { offline_in_ms: number };
        return view.offline_in_ms === 0 && { response, view };
      }, 'the streamer countdown at 0', 2_000);
      assert.equal(state.response.headers.get('cache-control'), 'no-store');
      assert.deepEqual(state.view, { streaming: false, title, grace_window_ms: 200, offline_in_ms: 0 });
    } finally {
      sse.close();
    }
  });

  it('refuses hostile simulator input with a JSON 4xx', async () => {
    const cases: Array<[string, string, number]> = [
      [JSON.stringify({ action: 'delete-everything' }), 'application/json', 400],
      [JSON.stringify({ action: 'online', secret: 'x' }), 'application/json', 400],
      [JSON.stringify({ action: 'update', title: 'x'.repeat(141) }), 'application/json', 400],
      [JSON.stringify({ action: 'update', title: '   ' }), 'application/json', 400],
      [JSON.stringify({ action: 'online', title: 'x'.repeat(141) }), 'application/json', 400],
      [JSON.stringify({ action: 'online', title: 42 }), 'application/json', 400],
      [JSON.stringify({ action: 'online', title: ['a', 'b'] }), 'application/json', 400],
      ['{"action":', 'application/json', 400],
      ['action=online', 'application/x-www-form-urlencoded', 415],
      [JSON.stringify({ action: 'online', pad: 'x'.repeat(10_000) }), 'application/json', 413],
    ];
    const before = await (await fetch(`${server.url}/demo/api/streamer`)).json();
    for (const [body, type, status] of cases) {
      const response = await simulate(body, type);
      assert.equal(response.status, status, body.slice(0, 60));
      assert.equal(typeof ((await response.json()) as { error: { code: string } }).error.code, 'string');
    }
    assert.deepEqual(await (await fetch(`${server.url}/demo/api/streamer`)).json(), before, 'a refused request changes nothing the streamer shows');
  });

  it('links the local live stream as the playback URL of the demo channel', async () => {
    const record = (await (await fetch(`${server.url}/api/v1/channels/acme/morning-show`)).json()) as LiveMetadata;
    assert.deepEqual(record.playback, { hls: `${server.url}/demo/live/index.m3u8` });
  });

  it('starts the live stream when the streamer goes live, serves it, and stops it when they go offline', async () => {
    let response = await fetch(`${server.url}/demo/live/index.m3u8`);
    assert.equal(response.status, 404, 'no playlist while offline');
    await response.arrayBuffer();

    assert.equal((await simulate(JSON.stringify({ action: 'online' }))).status, 202);
    assert.equal(live.live, true);
    const pid = live.pid;
    assert.ok(pid !== undefined && (await processRuns(pid)));
    await playlistWhen(live.dir, (text) => playlistSegments(text).length >= 1);

    response = await fetch(`${server.url}/demo/live/index.m3u8`, { headers: { Origin: 'https://elsewhere.example' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.equal(response.headers.get('cross-origin-resource-policy'), 'cross-origin');
    const playlist = await response.text();
    assert.match(playlist, /#EXT-X-PROGRAM-DATE-TIME:/);
    const segment = playlistSegments(playlist)[0];
    assert.ok(segment);
    response = await fetch(`${server.url}/demo/live/${segment}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'video/mp2t');
    assert.equal(response.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.equal(new Uint8Array(await response.arrayBuffer())[0], 0x47, 'an MPEG-TS sync byte');

    assert.equal((await simulate(JSON.stringify({ action: 'offline' }))).status, 202);
    assert.equal(live.live, false);
    assert.equal(await processRuns(pid), false, 'ffmpeg is gone once offline');
    response = await fetch(`${server.url}/demo/live/index.m3u8`);
    assert.equal(response.status, 404);
    await response.arrayBuffer();
  });

  it('serves only its fixed files: no path reaches the file system', async () => {
    for (const path of [
      '/demo/../package.json', '/..%2fpackage.json', '/element/..%2f..%2fpackage.json', '/demo.css%00.js', '/server/src/config.ts',
      '/demo/live/..%2f..%2f..%2fetc%2fpasswd', '/demo/live/..%2findex.m3u8', '/demo/live/index.m3u8.tmp', '/demo/live/segment-1.ts%00',
      '/demo/live/segment-..%2f1.ts', '/demo/live/.', '/demo/live/segment-1.ts.tmp', '/demo/live/SEGMENT-1.TS', '/demo/live/',
    ]) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
    }
  });
});

describe('demo mode without ffmpeg', () => {
  let server: RunningServer;

  before(async () => {
    const config = loadConfig({ PORT: '0', OFFLINE_GRACE_MS: '200', COALESCE_MS: '50', DEMO: '1', LOG_LEVEL: 'silent' });
    const logger = createLogger({ level: 'silent' });
    const live = await DemoLiveStream.open({ logger, ffmpeg: '/nonexistent/ffmpeg' });
    assert.equal(live, undefined);
    server = await startServer(config, { logger, extraRoutes: async (parts) => [await demoRoutes({ ...parts, live })] });
  });
  after(() => server.close());

  it('still starts and goes live, with no player and no stream', async () => {
    const record = (await (await fetch(`${server.url}/api/v1/channels/acme/morning-show`)).json()) as LiveMetadata;
    assert.equal(record.playback, undefined);
    const online = await fetch(`${server.url}/demo/api/simulate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"action":"online"}' });
    assert.equal(online.status, 202);
    await online.arrayBuffer();
    const playlist = await fetch(`${server.url}/demo/live/index.m3u8`);
    assert.equal(playlist.status, 404);
    assert.equal(((await playlist.json()) as { error: { code: string } }).error.code, 'not_found');
  });
});
