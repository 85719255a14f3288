import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import type { LevelWithSilent } from 'pino';
import { createLogger, createMetrics } from '../observability/index.js';
import { ingressAccess } from './ingress-access.js';

const ROUTE = '/webhooks/twitch';

function requestWith(headers: Record<string, string | string[]>): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.headers = headers;
  return request;
}

function setup(level: LevelWithSilent) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const metrics = createMetrics();
  return { lines, metrics, access: ingressAccess(ROUTE, metrics, createLogger({ level, destination })) };
}

it('echoes a sane X-Request-Id and makes a ULID for a missing, repeated or unsafe one', () => {
  const { access } = setup('silent');
  assert.equal(access.requestId(requestWith({ 'x-request-id': 'abc-123_x.y' })), 'abc-123_x.y');
  const odd: Array<Record<string, string | string[]>> = [{}, { 'x-request-id': 'has space' }, { 'x-request-id': 'x'.repeat(65) }, { 'x-request-id': ['a', 'b'] }];
  for (const headers of odd) {
    assert.match(access.requestId(requestWith(headers)), /^[0-9A-HJKMNP-TV-Z]{26}$/, JSON.stringify(headers));
  }
});

it('counts answers per method and status under its route', async () => {
  const { access, metrics } = setup('silent');
  access.count('POST', 204);
  access.count('POST', 204);
  access.count('GET', 405);
  const text = await metrics.registry.getSingleMetricAsString('live_upload_http_requests_total');
  assert.match(text, /live_upload_http_requests_total\{method="POST",route="\/webhooks\/twitch",status="204"\} 2/);
  assert.match(text, /live_upload_http_requests_total\{method="GET",route="\/webhooks\/twitch",status="405"\} 1/);
});

it('writes the access-log line of an answer at info, and none below it', async () => {
  const info = setup('info');
  assert.equal(info.access.logging(), true);
  info.access.log('req-1', 'POST', '/webhooks/twitch', 204, performance.now() - 5);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(info.lines.length, 1);
  const line = info.lines[0]!;
  assert.equal(line.msg, 'request');
  const { request_id, method, route, path, status } = line;
  assert.deepEqual({ request_id, method, route, path, status }, { request_id: 'req-1', method: 'POST', route: ROUTE, path: '/webhooks/twitch', status: 204 });
  assert.ok(typeof line.ms === 'number' && line.ms >= 5, `ms ${String(line.ms)}`);

  const warn = setup('warn');
  assert.equal(warn.access.logging(), false);
  warn.access.log('req-2', 'POST', '/webhooks/twitch', 204, performance.now());
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(warn.lines.length, 0);
});
