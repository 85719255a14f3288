import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  TWITCH_EVENTSUB_HEADERS,
  createEventSubSender,
  deliver,
  headerOf,
  redeliver,
  reserializeBody,
  resign,
  truncateSignature,
  twitchTimestamp,
  uppercaseSignature,
  withTimestamp,
  withoutHeader,
} from './eventsub.js';

const secret = 'fake-twitch-secret';
const sender = createEventSubSender({ secret, now: () => Date.parse('2026-03-01T18:00:00Z') });

describe('Twitch EventSub sender fake', () => {
  it('writes RFC 3339 timestamps with nanoseconds', () => {
    assert.equal(twitchTimestamp(Date.parse('2023-07-19T10:11:12.123Z'), 456789), '2023-07-19T10:11:12.123456789Z');
    assert.match(sender.streamOffline().timestamp, /^2026-03-01T18:00:00\.000\d{6}Z$/);
  });

  it('sends every documented header, signed over id + timestamp + body', () => {
    const request = sender.channelUpdate();
    for (const name of Object.values(TWITCH_EVENTSUB_HEADERS)) assert.ok(headerOf(request, name), name);
    assert.equal(headerOf(request, TWITCH_EVENTSUB_HEADERS.messageRetry), '0');
    assert.equal(headerOf(request, TWITCH_EVENTSUB_HEADERS.subscriptionType), 'channel.update');
    assert.equal(headerOf(request, TWITCH_EVENTSUB_HEADERS.subscriptionVersion), '2');
    const expected = createHmac('sha256', secret).update(request.messageId + request.timestamp + request.body).digest('hex');
    assert.equal(headerOf(request, TWITCH_EVENTSUB_HEADERS.messageSignature), `sha256=${expected}`);
  });

  it('builds hostile variants without touching the original', () => {
    const request = sender.streamOnline();
    const signature = headerOf(request, TWITCH_EVENTSUB_HEADERS.messageSignature);
    assert.notEqual(reserializeBody(request).body, request.body);
    assert.deepEqual(JSON.parse(reserializeBody(request, 'reordered').body), JSON.parse(request.body));
    assert.equal(headerOf(reserializeBody(request), TWITCH_EVENTSUB_HEADERS.messageSignature), signature);
    assert.equal(headerOf(truncateSignature(request, 20), TWITCH_EVENTSUB_HEADERS.messageSignature)?.length, 20);
    assert.match(headerOf(uppercaseSignature(request), TWITCH_EVENTSUB_HEADERS.messageSignature) ?? '', /^sha256=[0-9A-F]{64}$/);
    assert.notEqual(headerOf(resign(request, 'other-secret'), TWITCH_EVENTSUB_HEADERS.messageSignature), signature);
    const stale = withTimestamp(request, twitchTimestamp(0), secret);
    assert.equal(stale.timestamp, headerOf(stale, TWITCH_EVENTSUB_HEADERS.messageTimestamp));
    assert.equal(headerOf(withoutHeader(request, 'twitch-eventsub-message-id'), TWITCH_EVENTSUB_HEADERS.messageId), undefined);
    const retry = redeliver(redeliver(request));
    assert.equal(headerOf(retry, TWITCH_EVENTSUB_HEADERS.messageRetry), '2');
    assert.equal(retry.messageId, request.messageId);
    assert.equal(headerOf(retry, TWITCH_EVENTSUB_HEADERS.messageSignature), signature);
    assert.equal(headerOf(request, TWITCH_EVENTSUB_HEADERS.messageSignature), signature);
  });

  it('delivers the exact body bytes and headers over HTTP', async () => {
    const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const request = sender.channelUpdate({ title: 'Grüße 🎉' });
      const response = await deliver(`http://127.0.0.1:${port}/webhooks/twitch`, request);
      assert.equal(response.status, 204);
      const [got] = received;
      assert.ok(got);
      assert.equal(got.body.toString('utf8'), request.body);
      assert.equal(got.headers['twitch-eventsub-message-id'], request.messageId);
      assert.equal(got.headers['twitch-eventsub-message-timestamp'], request.timestamp);
      assert.equal(got.headers['content-type'], 'application/json');
    } finally {
      server.close();
    }
  });
});
