import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LiveMetadata } from '@live-upload/schema';
import { loadConfig } from '../config.js';
import { createLogger } from '../observability/index.js';
import { startServer, type RunningServer } from '../start-server.js';
import { openSse } from '../../../test/support/sse-client.js';
import { demoRoutes } from './demo-routes.js';

describe('demo mode', () => {
  let server: RunningServer;

  before(async () => {
    const config = loadConfig({ PORT: '0', OFFLINE_GRACE_MS: '200', COALESCE_MS: '50', DEMO: '1', LOG_LEVEL: 'silent' });
    server = await startServer(config, {
      logger: createLogger({ level: 'silent' }),
      extraRoutes: async (parts) => [await demoRoutes(parts)],
    });
  });
  after(() => server.close());

  const simulate = (body: string, contentType = 'application/json') =>
    fetch(`${server.url}/demo/api/simulate`, { method: 'POST', headers: { 'Content-Type': contentType }, body });

  it('serves the demo page', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<live-badge channel="acme\/morning-show"/);
  });

  it('drives the demo channel through the real, signed webhook', async () => {
    const sse = await openSse(`${server.url}/api/v1/live/events?channel=acme/morning-show`);
    try {
      await sse.next((event) => event.event === 'snapshot');
      const online = await simulate(JSON.stringify({ action: 'online' }));
      assert.equal(online.status, 202);
      assert.deepEqual(await online.json(), { action: 'online', webhook_status: 204 });
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

  it('refuses hostile simulator input with a JSON 4xx', async () => {
    const cases: Array<[string, string, number]> = [
      [JSON.stringify({ action: 'delete-everything' }), 'application/json', 400],
      [JSON.stringify({ action: 'online', secret: 'x' }), 'application/json', 400],
      [JSON.stringify({ action: 'update', title: 'x'.repeat(141) }), 'application/json', 400],
      [JSON.stringify({ action: 'update', title: '   ' }), 'application/json', 400],
      ['{"action":', 'application/json', 400],
      ['action=online', 'application/x-www-form-urlencoded', 415],
      [JSON.stringify({ action: 'online', pad: 'x'.repeat(10_000) }), 'application/json', 413],
    ];
    for (const [body, type, status] of cases) {
      const response = await simulate(body, type);
      assert.equal(response.status, status, body.slice(0, 60));
      assert.equal(typeof ((await response.json()) as { error: { code: string } }).error.code, 'string');
    }
  });

  it('serves only its fixed files: no path reaches the file system', async () => {
    for (const path of ['/demo/../package.json', '/..%2fpackage.json', '/element/..%2f..%2fpackage.json', '/demo.css%00.js', '/server/src/config.ts']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
    }
  });
});
