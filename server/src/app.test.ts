import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deliver } from '../../test/fakes/twitch/eventsub.js';
import { startTestServer, type TestServer } from '../../test/support/test-server.js';

describe('the app', () => {
  let server: TestServer;
  let koaOnly: Server;
  let koaUrl: string;

  before(async () => {
    server = await startTestServer();
    // Koa's own handler alone, without `app.handle` in front: every route has to be in it.
    koaOnly = createServer(server.running.app.koa.callback());
    await new Promise<void>((resolve) => koaOnly.listen(0, '127.0.0.1', resolve));
    koaUrl = `http://127.0.0.1:${(koaOnly.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => koaOnly.close(() => resolve()));
    await server.close();
  });

  it('is one Koa app for every route: the Twitch webhook is answered by Koa too', async () => {
    const accepted = await deliver(`${koaUrl}/webhooks/twitch`, server.twitch.streamOnline());
    assert.equal(accepted.status, 204, await accepted.clone().text());
    assert.ok(accepted.headers.get('x-request-id'));

    const forged = await fetch(`${koaUrl}/webhooks/twitch`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as { error: { code: string } }).error.code, 'signature_invalid');

    const health = await fetch(`${koaUrl}/healthz`);
    assert.equal(health.status, 200);
  });
});
