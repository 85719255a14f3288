import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { liveMetadataJsonSchema } from '@live-upload/schema';
import { loadConfig } from '../config.js';
import { createLogger } from '../observability/index.js';
import { startServer, type RunningServer } from '../start-server.js';
import { createEventSubSender, deliver } from '../../../test/fakes/twitch/eventsub.js';
import { TEST_ADMIN_TOKEN, TEST_SECRET } from '../../../test/support/test-server.js';

describe('operations routes, request ids and logs', () => {
  let server: RunningServer;
  const logLines: string[] = [];

  before(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const config = loadConfig({ PORT: '0', TWITCH_EVENTSUB_SECRET: TEST_SECRET, ADMIN_TOKEN: TEST_ADMIN_TOKEN, DEMO: '0', LOG_LEVEL: 'debug' });
    server = await startServer(config, { logger: createLogger({ level: 'debug', destination }) });
  });
  after(() => server.close());

  it('answers liveness and readiness with the bus kind', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { status: string; bus: string; durable: boolean; warning?: string };
    assert.deepEqual({ ...body, warning: undefined }, { status: 'ready', bus: 'memory', durable: false, warning: undefined }, 'ready, but not claiming durability');
    assert.match(body.warning ?? '', /lost at restart/);
  });

  it('serves Prometheus metrics with our metric names', async () => {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    const text = await response.text();
    for (const name of ['live_upload_webhook_results_total', 'live_upload_bus_publish_seconds', 'live_upload_sse_clients', 'process_cpu_seconds_total']) {
      assert.match(text, new RegExp(`# TYPE ${name}`), name);
    }
  });

  it('serves the canonical schema as JSON Schema, readable from any origin', async () => {
    const response = await fetch(`${server.url}/schema/2026-01-1.json`, { headers: { Origin: 'https://elsewhere.example' } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/schema\+json/);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await response.json(), liveMetadataJsonSchema());
    assert.equal((await fetch(`${server.url}/schema/2025-01-1.json`)).status, 404);
  });

  it('serves the badge bundle to pages on any origin, from a fixed table of files', async () => {
    const badge = await fetch(`${server.url}/element/live-badge.js`, { headers: { Origin: 'https://customer.example' } });
    assert.equal(badge.status, 200);
    assert.equal(badge.headers.get('access-control-allow-origin'), '*');
    assert.match(badge.headers.get('content-type') ?? '', /text\/javascript/);
    assert.match(await badge.text(), /live-badge/);
    for (const path of ['/element/../package.json', '/element/..%2f..%2fpackage.json', '/element/live-badge.ts', '/element/']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
    }
  });

  it('echoes a sane X-Request-Id and replaces a hostile one', async () => {
    const echoed = await fetch(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'abc-123.def_4' } });
    assert.equal(echoed.headers.get('x-request-id'), 'abc-123.def_4');
    for (const hostile of ['x'.repeat(65), 'a b', '<script>', 'id\u00e9']) {
      const response = await fetch(`${server.url}/healthz`, { headers: { 'X-Request-Id': encodeURI(hostile) === hostile ? hostile : encodeURIComponent(hostile) } });
      assert.match(response.headers.get('x-request-id') ?? '', /^[0-9A-HJKMNP-TV-Z]{26}$/, hostile);
    }
  });

  it('never writes secrets, tokens or signatures to the log', async () => {
    const twitch = createEventSubSender({ secret: TEST_SECRET });
    const request = twitch.streamOnline();
    await deliver(`${server.url}/webhooks/twitch`, request);
    await fetch(`${server.url}/api/v1/channels/acme/logs`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ providers: {} }),
    });
    await fetch(`${server.url}/api/v1/channels/acme/logs`, { method: 'PUT', headers: { Authorization: 'Bearer wrong-token-000000', 'Content-Type': 'application/json' }, body: '{}' });
    const signature = request.headers['Twitch-Eventsub-Message-Signature'] ?? '';
    assert.ok(logLines.length > 0, 'the server logs requests');
    const everything = logLines.join('\n');
    for (const secret of [TEST_SECRET, TEST_ADMIN_TOKEN, signature.slice('sha256='.length), 'wrong-token-000000']) {
      assert.equal(everything.includes(secret), false, `log contains ${secret.slice(0, 6)}...`);
    }
    const requestLine = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['route'] === '/webhooks/twitch');
    assert.ok(requestLine?.['request_id'], 'each access log line carries its request id');
  });
});
