import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sendWebhook } from './send-webhook.js';
import { WebhookPools } from './webhook-pools.js';

describe('sendWebhook', () => {
  let server: Server;
  let port: number;
  const sockets = new Set<Socket>();
  const seen: Array<{ host: string | undefined; path: string | undefined; body: string }> = [];
  const pools = new WebhookPools({ connectTimeoutMs: 300 });
  const connections: Socket[] = [];

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({ host: request.headers.host, path: request.url, body: Buffer.concat(chunks).toString('utf8') });
        if (request.url === '/hang') return;
        if (request.url === '/redirect') {
          response.writeHead(307, { Location: '/elsewhere' }).end();
          return;
        }
        if (request.url === '/long') {
          response.writeHead(200, { 'content-type': 'text/plain' }).end(Buffer.alloc(256 * 1024, 'x'));
          return;
        }
        if (request.url === '/busy') {
          response.writeHead(503, { 'Retry-After': '7' }).end();
          return;
        }
        response.writeHead(204).end();
      });
    });
    server.on('connection', (socket) => {
      connections.push(socket);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await pools.destroy();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  });

  const limits = { timeoutMs: 400 };
  const pinned = { address: '127.0.0.1', family: 4 as const };

  it('connects to the pinned address whatever the host name, and keeps the Host header', async () => {
    const url = new URL(`http://rebinding.invalid:${port}/hook?x=1`);
    const result = await sendWebhook({ url, pinned, headers: { 'webhook-id': 'msg_1' }, body: '{"a":1}' }, limits, pools);
    assert.equal(result.kind, 'response');
    assert.equal(result.kind === 'response' && result.status, 204);
    assert.deepEqual(seen.at(-1), { host: `rebinding.invalid:${port}`, path: '/hook?x=1', body: '{"a":1}' });
  });

  it('does not follow redirects, and reports Retry-After', async () => {
    const redirect = await sendWebhook({ url: new URL(`http://127.0.0.1:${port}/redirect`), pinned, headers: {}, body: '{}' }, limits, pools);
    assert.equal(redirect.kind === 'response' && redirect.status, 307);
    assert.equal(seen.some((request) => request.path === '/elsewhere'), false);
    const busy = await sendWebhook({ url: new URL(`http://127.0.0.1:${port}/busy`), pinned, headers: {}, body: '{}' }, limits, pools);
    assert.equal(busy.kind === 'response' && busy.retryAfter, '7');
  });

  it('gives up on a receiver that hangs after the delivery timeout', async () => {
    const startedAt = performance.now();
    const result = await sendWebhook({ url: new URL(`http://127.0.0.1:${port}/hang`), pinned, headers: {}, body: '{}' }, limits, pools);
    assert.equal(result.kind, 'failed');
    assert.equal(result.kind === 'failed' && result.reason, 'timeout');
    assert.ok(performance.now() - startedAt < 2000);
  });

  it('reports a refused connection as a failed attempt', async () => {
    const refused = await sendWebhook({ url: new URL('http://127.0.0.1:1/'), pinned: { address: '127.0.0.1', family: 4 }, headers: {}, body: '{}' }, limits, pools);
    assert.equal(refused.kind === 'failed' && refused.reason, 'connection');
  });

  it('keeps the connection to a receiver for the next attempt', async () => {
    const url = new URL(`http://127.0.0.1:${port}/again`);
    await sendWebhook({ url, pinned, headers: {}, body: '{}' }, limits, pools);
    const opened = connections.length;
    for (let i = 0; i < 3; i++) {
      const result = await sendWebhook({ url, pinned, headers: {}, body: '{}' }, limits, pools);
      assert.equal(result.kind === 'response' && result.status, 204);
    }
    assert.equal(connections.length, opened, 'no new connection for later attempts');
  });

  it('answers with the status of a response whose body is too long to read', async () => {
    const result = await sendWebhook({ url: new URL(`http://127.0.0.1:${port}/long`), pinned, headers: {}, body: '{}' }, { timeoutMs: 10_000 }, pools);
    assert.equal(result.kind === 'response' && result.status, 200, JSON.stringify(result));
  });
});
