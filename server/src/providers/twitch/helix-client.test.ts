import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startFakeHelix, type FakeHelix } from '../../../../test/fakes/twitch/helix.js';
import { AppAccessToken } from './app-access-token.js';
import { HELIX_ERROR_KINDS, HelixClient, HelixError, type HelixClientOptions, type HelixErrorKind } from './helix-client.js';

/** Nothing listens on the discard port: the fake's verification challenges fail fast. */
const DEAD_CALLBACK = 'http://127.0.0.1:9/webhooks/twitch';
const SECRET = 'helix-client-test-secret';

function isHelixError(kind: HelixErrorKind, status?: number) {
  return (error: unknown) => {
    assert.ok(error instanceof HelixError, String(error));
    assert.equal(error.kind, kind, error.message);
    if (status !== undefined) assert.equal(error.status, status);
    return true;
  };
}

describe('HelixClient against the fake Helix', () => {
  let twitch: FakeHelix;
  let sleeps: number[];
  let client: HelixClient;

  const clientWith = (options: Partial<HelixClientOptions> = {}) =>
    new HelixClient({
      apiBaseUrl: twitch.url,
      token: new AppAccessToken({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret }),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...options,
    });

  const requestsSince = (start: number, method?: string) => twitch.requests.slice(start).filter((request) => request.path !== '/oauth2/token' && (method === undefined || request.method === method));

  before(async () => {
    twitch = await startFakeHelix({ pageSize: 2 });
  });
  after(() => twitch.close());
  beforeEach(async () => {
    sleeps = [];
    client = clientWith();
    for (const subscription of await client.listSubscriptions()) await client.deleteSubscription(subscription.id);
  });

  it('creates a webhook subscription (202, pending) with the documented body', async () => {
    const { subscription, created } = await client.createSubscription({ type: 'stream.online', version: '1', broadcasterUserId: '1001', callback: DEAD_CALLBACK, secret: SECRET });
    assert.equal(created, true);
    assert.equal(subscription.status, 'webhook_callback_verification_pending');
    assert.equal(subscription.type, 'stream.online');
    assert.deepEqual(subscription.condition, { broadcaster_user_id: '1001' });
    assert.deepEqual(subscription.transport, { method: 'webhook', callback: DEAD_CALLBACK });
    await twitch.verificationsSettled();
    const [listed] = await client.listSubscriptions();
    assert.equal(listed?.status, 'webhook_callback_verification_failed');
  });

  it('lists every page by following pagination.cursor, with and without filters', async () => {
    for (const id of ['1', '2', '3']) {
      await client.createSubscription({ type: 'stream.online', version: '1', broadcasterUserId: id, callback: DEAD_CALLBACK, secret: SECRET });
      await client.createSubscription({ type: 'stream.offline', version: '1', broadcasterUserId: id, callback: DEAD_CALLBACK, secret: SECRET });
    }
    await twitch.verificationsSettled();
    const start = twitch.requests.length;
    const all = await client.listSubscriptions();
    assert.equal(all.length, 6);
    assert.equal(new Set(all.map((subscription) => subscription.id)).size, 6);
    assert.equal(requestsSince(start, 'GET').length, 3, 'six subscriptions at two per page');
    const offline = await client.listSubscriptions({ type: 'stream.offline' });
    assert.deepEqual(offline.map((subscription) => subscription.condition['broadcaster_user_id']).sort(), ['1', '2', '3']);
    assert.equal((await client.listSubscriptions({ status: 'webhook_callback_verification_failed' })).length, 6);
    assert.equal((await client.listSubscriptions({ status: 'enabled' })).length, 0);
  });

  it('treats 409 Conflict on create as success and returns the existing subscription', async () => {
    const input = { type: 'channel.update', version: '2', broadcasterUserId: '77', callback: DEAD_CALLBACK, secret: SECRET };
    const first = await client.createSubscription(input);
    const start = twitch.requests.length;
    const second = await client.createSubscription(input);
    assert.equal(second.created, false);
    assert.equal(second.subscription.id, first.subscription.id);
    assert.deepEqual(
      requestsSince(start).map((request) => `${request.method} ${request.status}`),
      ['POST 409', 'GET 200'],
    );
  });

  it('refreshes the token once on a 401 and retries', async () => {
    await client.listSubscriptions();
    const issued = twitch.tokensIssued();
    twitch.expireTokens();
    const start = twitch.requests.length;
    assert.deepEqual(await client.listSubscriptions(), []);
    assert.equal(twitch.tokensIssued(), issued + 1);
    assert.deepEqual(requestsSince(start).map((request) => request.status), [401, 200]);
  });

  it('gives up after one refresh when Helix keeps answering 401', async () => {
    twitch.respondNext(401, JSON.stringify({ error: 'Unauthorized', status: 401, message: 'Invalid OAuth token' }));
    twitch.respondNext(401, JSON.stringify({ error: 'Unauthorized', status: 401, message: 'Invalid OAuth token' }));
    const start = twitch.requests.length;
    await assert.rejects(client.listSubscriptions(), isHelixError(HELIX_ERROR_KINDS.unauthorized, 401));
    assert.equal(requestsSince(start).length, 2);
  });

  it('waits until Ratelimit-Reset on 429 and retries, a bounded number of times', async () => {
    let nowMs = Date.now();
    client = clientWith({ now: () => nowMs, maxRateLimitRetries: 3 });
    twitch.rateLimitNext(2, 5_000);
    assert.deepEqual(await client.listSubscriptions(), []);
    assert.equal(sleeps.length, 2);
    for (const waited of sleeps) assert.ok(waited > 3_000 && waited <= 6_000, `waited ${waited} ms`);

    sleeps = [];
    nowMs = Date.now();
    twitch.rateLimitNext(10, 2_000);
    const start = twitch.requests.length;
    await assert.rejects(client.listSubscriptions(), isHelixError(HELIX_ERROR_KINDS.rateLimited, 429));
    assert.equal(requestsSince(start).length, 4, 'one try and three retries');
    assert.equal(sleeps.length, 3);
    twitch.rateLimitNext(0, 0);
  });

  it('does not wait for a rate-limit reset beyond its bound', async () => {
    client = clientWith({ maxRateLimitWaitMs: 1_000 });
    twitch.rateLimitNext(1, 120_000);
    await assert.rejects(client.listSubscriptions(), isHelixError(HELIX_ERROR_KINDS.rateLimited));
    assert.deepEqual(sleeps, []);
  });

  it('maps Twitch error bodies to typed errors: 400 bad body, 404 unknown id', async () => {
    await assert.rejects(
      client.createSubscription({ type: 'no.such.type', version: '1', broadcasterUserId: '1', callback: DEAD_CALLBACK, secret: SECRET }),
      (error: unknown) => isHelixError(HELIX_ERROR_KINDS.badRequest, 400)(error) && /unsupported subscription type/.test((error as Error).message),
    );
    await assert.rejects(
      client.createSubscription({ type: 'stream.online', version: '1', broadcasterUserId: '1', callback: DEAD_CALLBACK, secret: 'short' }),
      isHelixError(HELIX_ERROR_KINDS.badRequest, 400),
    );
    await assert.rejects(client.deleteSubscription('00000000-0000-0000-0000-000000000000'), isHelixError(HELIX_ERROR_KINDS.notFound, 404));
  });

  it('survives hostile answers: malformed JSON, wrong shapes, 500s, HTML errors', async () => {
    const cases: { status: number; body: string; kind: HelixErrorKind }[] = [
      { status: 200, body: '{"data":[', kind: HELIX_ERROR_KINDS.malformedResponse },
      { status: 200, body: '{"data":"nope","total":0,"total_cost":0,"max_total_cost":1}', kind: HELIX_ERROR_KINDS.malformedResponse },
      { status: 200, body: '{"data":[{"id":"x"}],"total":1,"total_cost":0,"max_total_cost":1}', kind: HELIX_ERROR_KINDS.malformedResponse },
      { status: 200, body: 'null', kind: HELIX_ERROR_KINDS.malformedResponse },
      { status: 500, body: '{"error":"Internal Server Error","status":500,"message":""}', kind: HELIX_ERROR_KINDS.server },
      { status: 503, body: '<html>bad gateway</html>', kind: HELIX_ERROR_KINDS.server },
      { status: 418, body: '', kind: HELIX_ERROR_KINDS.badRequest },
    ];
    for (const { status, body, kind } of cases) {
      twitch.respondNext(status, body);
      await assert.rejects(client.listSubscriptions(), isHelixError(kind, status), body);
    }
    twitch.respondNext(202, '{"data":[],"total":0,"total_cost":0,"max_total_cost":1}');
    await assert.rejects(
      client.createSubscription({ type: 'stream.online', version: '1', broadcasterUserId: '1', callback: DEAD_CALLBACK, secret: SECRET }),
      isHelixError(HELIX_ERROR_KINDS.malformedResponse),
    );
  });

  it('stops when Helix repeats a pagination cursor', async () => {
    const page = (cursor: string) => JSON.stringify({ data: [], total: 0, total_cost: 0, max_total_cost: 1, pagination: { cursor } });
    const subscription = { id: 'a', status: 'enabled', type: 'stream.online', version: '1', cost: 0, condition: { broadcaster_user_id: '1' }, transport: { method: 'webhook', callback: DEAD_CALLBACK }, created_at: '2026-01-01T00:00:00Z' };
    const looping = (cursor: string) => JSON.stringify({ data: [subscription], total: 1, total_cost: 0, max_total_cost: 1, pagination: { cursor } });
    twitch.respondNext(200, looping('same'));
    twitch.respondNext(200, looping('same'));
    await assert.rejects(client.listSubscriptions(), isHelixError(HELIX_ERROR_KINDS.malformedResponse));
    // An empty page with a cursor ends the listing.
    twitch.respondNext(200, page('more'));
    assert.deepEqual(await client.listSubscriptions(), []);
  });

  it('lists a broadcaster\'s archives newest first, page by page, with the app token and Client-Id', async () => {
    twitch.addVideo({ user_id: '7001', id: '901', stream_id: '41', created_at: '2026-03-01T10:00:00Z', duration: '3h8m33s' });
    twitch.addVideo({ user_id: '7001', id: '902', stream_id: '42', created_at: '2026-03-02T10:00:00Z' });
    twitch.addVideo({ user_id: '7001', id: '903', stream_id: null, created_at: '2026-03-03T10:00:00Z', type: 'upload' });
    twitch.addVideo({ user_id: '7001', id: '904', stream_id: '43', created_at: '2026-03-04T10:00:00Z' });
    twitch.addVideo({ user_id: '7002', id: '905', stream_id: '44', created_at: '2026-03-05T10:00:00Z' });
    const start = twitch.requests.length;
    const one = await client.getArchiveVideos('7001', { first: 2 });
    assert.deepEqual(one.map((video) => video.id), ['904', '902']);
    const all = await client.getArchiveVideos('7001', { first: 2, pages: 5 });
    assert.deepEqual(all.map((video) => [video.id, video.stream_id, video.type]), [['904', '43', 'archive'], ['902', '42', 'archive'], ['901', '41', 'archive']]);
    assert.equal(all[2]?.duration, '3h8m33s');
    assert.match(all[2]?.thumbnail_url ?? '', /%\{width\}x%\{height\}/);
    assert.deepEqual(requestsSince(start).map((request) => [request.method, request.path, request.status]), [
      ['GET', '/helix/videos', 200],
      ['GET', '/helix/videos', 200],
      ['GET', '/helix/videos', 200],
    ]);
  });

  it('refreshes the app token once on a 401 from Get Videos, and reports errors and malformed pages as HelixErrors', async () => {
    twitch.addVideo({ user_id: '7101', id: '911', stream_id: '51' });
    twitch.expireTokens();
    assert.deepEqual((await client.getArchiveVideos('7101')).map((video) => video.id), ['911']);
    twitch.respondNext(500, JSON.stringify({ error: 'Internal Server Error', status: 500, message: '' }));
    await assert.rejects(client.getArchiveVideos('7101'), isHelixError(HELIX_ERROR_KINDS.server, 500));
    twitch.respondNext(200, JSON.stringify({ data: [{ id: 'not-a-number' }], pagination: {} }));
    await assert.rejects(client.getArchiveVideos('7101'), isHelixError(HELIX_ERROR_KINDS.malformedResponse));
  });

  it('reports an unreachable Helix as unreachable', async () => {
    const offline = new HelixClient({
      apiBaseUrl: 'http://127.0.0.1:9',
      token: new AppAccessToken({ authBaseUrl: twitch.url, clientId: twitch.clientId, clientSecret: twitch.clientSecret }),
    });
    await assert.rejects(offline.listSubscriptions(), isHelixError(HELIX_ERROR_KINDS.unreachable, 0));
  });
});
