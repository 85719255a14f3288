import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../../test/support/each-bus.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../../test/support/test-server.js';

const TIMEOUT_MS = 600;
const MIN_BYTES_PER_SECOND = 500;
/** The slow client: one byte this often (well inside the idle timeout, far below the rate). */
const DRIP_EVERY_MS = 150;

interface Dripped {
  readonly received: string;
  readonly bytesSent: number;
  readonly elapsedMs: number;
}

/** Sends `head`, then one body byte every `everyMs` (none when 0) until the server closes the connection. */
function drip(server: TestServer, head: string, everyMs: number): Promise<Dripped> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const startedAt = performance.now();
    let received = '';
    let bytesSent = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(head);
      if (everyMs > 0) {
        timer = setInterval(() => {
          if (!socket.writable) return;
          socket.write('x');
          bytesSent += 1;
        }, everyMs);
      }
    });
    socket.once('close', () => {
      clearInterval(timer);
      resolve({ received, bytesSent, elapsedMs: performance.now() - startedAt });
    });
    setTimeout(() => reject(new Error(`the server kept the slow body open for 20 s; got ${JSON.stringify(received)}`)), 20_000).unref();
  });
}

function assert408(result: Dripped, what: string): void {
  const [head = '', body = ''] = result.received.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 408 /, `${what}: ${JSON.stringify(result.received.slice(0, 200))}`);
  assert.match(head, /\r\nconnection: close\r\n/i);
  assert.match(head, /\r\ncontent-type: application\/json/i);
  assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'request_timeout');
}

describeEachBus('slow request bodies', (bus) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { REQUEST_BODY_TIMEOUT_MS: String(TIMEOUT_MS), REQUEST_BODY_MIN_BYTES_PER_SECOND: String(MIN_BYTES_PER_SECOND) } });
  });
  after(() => server.close());

  const grantAndCreate = async (size: number) => {
    const response = await server.request('/api/v1/uploads/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'slow.mp4', size, type: 'video/mp4', source: 'file' }),
    });
    assert.equal(response.status, 201);
    const grant = (await response.json()) as { upload_id: string; token: string; upload_url: string };
    const created = await fetch(grant.upload_url, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(size), Authorization: `Bearer ${grant.token}` } });
    assert.equal(created.status, 201);
    return grant;
  };
  const patchHead = (grant: { upload_id: string; token: string }, size: number) =>
    `PATCH /uploads/${grant.upload_id} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer ${grant.token}\r\nUpload-Offset: 0\r\n` +
    `Content-Type: application/offset+octet-stream\r\nContent-Length: ${size}\r\n\r\n`;

  it('cuts off a tus PATCH that sends one byte at a time with a 408, and keeps the bytes it got for a resume', async () => {
    const grant = await grantAndCreate(10_000);
    const result = await drip(server, patchHead(grant, 10_000), DRIP_EVERY_MS);
    assert408(result, 'tus PATCH');
    assert.ok(result.elapsedMs < TIMEOUT_MS * 2 + 2_000, `closed after ${Math.round(result.elapsedMs)} ms`);
    const head = await fetch(`${grant.upload_url}/${grant.upload_id}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${grant.token}` } });
    assert.equal(head.status, 200);
    const offset = Number(head.headers.get('upload-offset'));
    assert.ok(offset > 0 && offset <= result.bytesSent, `offset ${offset} of ${result.bytesSent} bytes sent`);
  });

  it('cuts off a body that stops arriving (idle), and a JSON body that drips', async () => {
    const grant = await grantAndCreate(100);
    const idle = await drip(server, patchHead(grant, 100), 0);
    assert408(idle, 'idle tus PATCH');
    assert.ok(idle.elapsedMs >= TIMEOUT_MS - 100, `not before the timeout: ${Math.round(idle.elapsedMs)} ms`);

    const json = await drip(
      server,
      `PUT /api/v1/channels/acme/drip HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n`,
      DRIP_EVERY_MS,
    );
    assert408(json, 'PUT channel');
  });

  it('leaves a body that keeps its rate alone', async () => {
    const response = await server.request('/api/v1/channels/acme/steady', { method: 'PUT', admin: true, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ providers: {} }) });
    assert.equal(response.status, 201);
  });
});
