import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { floodRequest } from '../../../test/support/raw-http.js';
import { TEST_ADMIN_TOKEN, startTestServer, type TestServer } from '../../../test/support/test-server.js';

/** Far more than any limit, and than a client could send before it reads the answer. */
const HUGE_CONTENT_LENGTH = 10 * 1024 ** 3;
const FLOOD_BYTES = 32 * 1024 * 1024;

describeEachBus('a body refused early', (bus) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl() });
  });
  after(() => server.close());

  const flood = (requestLine: string, headers: Record<string, string>) => {
    const { hostname, port } = new URL(server.url);
    const head = `${requestLine}\r\nHost: ${hostname}\r\n${Object.entries({ ...headers, 'Content-Length': String(HUGE_CONTENT_LENGTH) })
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n')}\r\n\r\n`;
    return floodRequest(hostname, Number(port), head, FLOOD_BYTES);
  };

  const assertAnswered413 = (result: { received: string; error: string | undefined }, what: string) => {
    const [head = '', body = ''] = result.received.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 413 /, `${what}: the client must read a 413, not a reset (socket error: ${result.error ?? 'none'}; got ${JSON.stringify(result.received.slice(0, 200))})`);
    assert.match(head, /\r\nconnection: close\r\n/i, `${what}: the connection is not kept for another request`);
    assert.match(head, /\r\ncontent-type: application\/json/i);
    assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'payload_too_large', what);
  };

  it('reaches a client still sending its body as a 413 JSON on the Twitch webhook, not as a reset', async () => {
    assertAnswered413(await flood('POST /webhooks/twitch HTTP/1.1', { 'Content-Type': 'application/json' }), '/webhooks/twitch');
  });

  it('reaches a client still sending its body as a 413 JSON on a Koa route, and the connection closes', async () => {
    const result = await flood('PUT /api/v1/channels/acme/huge HTTP/1.1', { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    assertAnswered413(result, 'PUT /api/v1/channels');
    assert.ok(result.sentBytes <= FLOOD_BYTES);
  });
});
