import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../../test/support/test-server.js';

describeEachBus('X-Content-Type-Options on every answer', (bus) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl() });
  });
  after(() => server.close());

  it('sends nosniff with JSON answers and errors of Koa routes, the webhook ingress and tus', async () => {
    const answers: Array<[string, Response]> = [
      ['GET /healthz', await server.request('/healthz')],
      ['GET /readyz', await server.request('/readyz')],
      ['GET channel', await server.request(`/api/v1/channels/${TEST_CHANNEL}`)],
      ['GET channel status', await server.request(`/api/v1/channels/${TEST_CHANNEL}/status`)],
      ['no route', await server.request('/nowhere')],
      ['401', await server.request('/api/v1/audit')],
      ['400 upload token', await server.request('/api/v1/uploads/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' })],
      ['400 live events', await server.request('/api/v1/live/events')],
      ['webhook 405', await server.request('/webhooks/twitch')],
      ['webhook 403', await server.request('/webhooks/twitch', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })],
      ['tus 401', await server.request('/uploads', { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' } })],
    ];
    for (const [what, response] of answers) {
      await response.arrayBuffer();
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', `${what} (${response.status})`);
    }
    assert.match(answers[2]![1].headers.get('content-type') ?? '', /^application\/json/);
  });
});
