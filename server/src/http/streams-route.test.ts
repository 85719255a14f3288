import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';
import { eventually } from '../../../test/support/eventually.js';
import { nextStatus } from '../../../test/support/provider-fakes.js';
import { openSse, type SseClient } from '../../../test/support/sse-client.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { createEventSubSender, type EventSubSender } from '../../../test/fakes/twitch/eventsub.js';
import { rawGet } from '../../../test/support/raw-get.js';

const CHESS = 'games/chess';
const CHESS_BROADCASTER = { id: '5151', login: 'chess_live', name: 'Chess_Live' } as const;
/** Channels that never go live: offline in the index, tied on every sort key but their name. */
const QUIET = ['music/jazz', 'quiet/a-one', 'quiet/b-two', 'quiet/c-three'] as const;
const RATE_LIMIT = 5_000;

interface StreamItem {
  channel: string;
  channel_name: string;
  canonical_id: string | null;
  status: string;
  title: string | null;
  started_at: string | null;
  viewer_count: number | null;
  tags: string[];
  badge: { label: string; color: string; animate: boolean };
  url: string;
}
interface StreamsPage {
  items: StreamItem[];
  next_cursor: string | null;
}


async function putChannel(server: TestServer, channel: string, body: Record<string, unknown>): Promise<void> {
  const response = await server.request(`/api/v1/channels/${channel}`, {
    method: 'PUT',
    admin: true,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(response.status === 200 || response.status === 201, `${channel}: ${response.status} ${await response.text()}`);
}

describeEachBus('discovery index GET /api/v1/streams', (bus) => {
  let server: TestServer;
  let chess: EventSubSender;
  let sse: SseClient | undefined;

  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), graceMs: 200, env: { STATUS_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) } });
    chess = createEventSubSender({ secret: server.twitch.secret, callback: `${server.url}/webhooks/twitch`, broadcaster: CHESS_BROADCASTER });
    await putChannel(server, CHESS, { title: 'Chess Corner', providers: { twitch: { user_id: CHESS_BROADCASTER.id, login: CHESS_BROADCASTER.login } } });
    await putChannel(server, 'music/jazz', { title: 'Late Jazz', providers: {} });
    for (const channel of QUIET.slice(1)) await putChannel(server, channel, { providers: {} });
    sse = await openSse(`${server.url}/api/v1/live/events?channel=${TEST_CHANNEL}&channel=${CHESS}`);
    await sse.next((event) => event.event === 'snapshot');
  });
  after(async () => {
    sse?.close();
    await server.close();
  });

  const list = async (query = '', headers: Record<string, string> = {}) => {
    const response = await server.request(`/api/v1/streams${query}`, { headers });
    assert.equal(response.status, 200, `${query}: ${await response.clone().text()}`);
    return { response, page: (await response.json()) as StreamsPage };
  };
  const channelsOf = (page: StreamsPage) => page.items.map((item) => item.channel);

  /** Sends signed Twitch requests for the chess channel, as Twitch would. */
  const sendChess = async (request: ReturnType<EventSubSender['streamOnline']>) => {
    const response = await server.send(request);
    assert.equal(response.status, 204, await response.text());
  };

  it('lists every configured channel: never-live ones offline, with the small summary and the landing page URL', async () => {
    const { response, page } = await list();
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=2, stale-while-revalidate=10');
    assert.match(response.headers.get('etag') ?? '', /^"[A-Za-z0-9_-]{27}"$/);
    assert.equal(response.headers.get('ratelimit-limit'), String(RATE_LIMIT), 'rate-limited per client like /status');
    assert.equal(page.next_cursor, null);
    // All offline and never started: the channel name decides.
    assert.deepEqual(channelsOf(page), [TEST_CHANNEL, CHESS, ...QUIET]);
    const acme = page.items[0]!;
    assert.deepEqual(acme, {
      channel: TEST_CHANNEL,
      channel_name: 'Acme Morning Show',
      canonical_id: null,
      status: 'offline',
      title: 'Acme Morning Show',
      started_at: null,
      viewer_count: null,
      tags: [],
      badge: acme.badge,
      url: `${server.url}/c/${TEST_CHANNEL}`,
    });
    assert.equal(typeof acme.badge.label, 'string');
    assert.equal(page.items.find((item) => item.channel === 'quiet/a-one')?.channel_name, 'quiet/a-one', 'no title: the channel ref');
    const landing = await fetch(acme.url);
    assert.equal(landing.status, 200, 'the url is the landing page');
    await landing.arrayBuffer();
  });

  it('lists a channel as soon as the admin API created it', async () => {
    await putChannel(server, 'zz/new-show', { title: 'Brand New', providers: {} });
    const { page } = await list('?q=brand%20new');
    assert.deepEqual(channelsOf(page), ['zz/new-show']);
    assert.equal(page.items[0]!.status, 'offline');
  });

  it('follows real signed Twitch webhooks: live first, by status, tag and text, and back to offline', async () => {
    assert.ok(sse);
    const now = Date.now();
    let from = sse.events.length;
    await sendChess(server.twitch.streamOnline({ startedAtMs: now - 60_000 }));
    await nextStatus(sse, (record) => record.channel === TEST_CHANNEL && record.status === 'live', { fromIndex: from });
    from = sse.events.length;
    await sendChess(chess.streamOnline({ startedAtMs: now - 30_000 }));
    await sendChess(chess.channelUpdate({ title: 'Blitz night: Sicilian only', categoryName: 'Chess' }));
    const chessLive = await nextStatus(sse, (record) => record.channel === CHESS && record.status === 'live' && record.tags.includes('Chess'), { fromIndex: from });

    const trending = (await list()).page;
    assert.deepEqual(channelsOf(trending).slice(0, 2), [CHESS, TEST_CHANNEL], 'live first; no viewer counts, so the newer start first');
    const chessItem = trending.items[0]!;
    assert.equal(chessItem.status, 'live');
    assert.equal(chessItem.title, 'Blitz night: Sicilian only');
    assert.equal(chessItem.channel_name, 'Chess Corner');
    assert.equal(chessItem.canonical_id, chessLive.canonical_id);
    assert.equal(chessItem.started_at, chessLive.started_at);
    assert.deepEqual(chessItem.tags, ['Chess']);
    assert.deepEqual(chessItem.badge, chessLive.badge);

    assert.deepEqual(channelsOf((await list('?status=live')).page), [CHESS, TEST_CHANNEL]);
    assert.deepEqual(channelsOf((await list('?status=offline')).page), [...QUIET, 'zz/new-show']);
    assert.deepEqual(channelsOf((await list('?status=scheduled')).page), []);
    assert.deepEqual(channelsOf((await list('?tag=cHeSs')).page), [CHESS], 'tags match case-insensitively');
    assert.deepEqual(channelsOf((await list('?tag=chess&tag=news')).page), [], 'every tag must match');
    assert.deepEqual(channelsOf((await list('?tag=ches')).page), [], 'a whole tag, not a prefix');
    assert.deepEqual(channelsOf((await list(`?q=${encodeURIComponent('  SICILIAN ')}`)).page), [CHESS], 'q: the broadcast title, trimmed, any case');
    assert.deepEqual(channelsOf((await list('?q=corner')).page), [CHESS], 'q: the channel name');
    assert.deepEqual(channelsOf((await list('?q=music%2F')).page), ['music/jazz'], 'q: publisher/slug');

    from = sse.events.length;
    await sendChess(chess.streamOffline());
    await nextStatus(sse, (record) => record.channel === CHESS && record.status === 'offline', { fromIndex: from, timeoutMs: 5_000 });
    assert.deepEqual(channelsOf((await list('?status=live')).page), [TEST_CHANNEL]);
    assert.deepEqual(channelsOf((await list('?limit=2')).page), [TEST_CHANNEL, CHESS], 'trending: live first, then the most recent broadcast');
    assert.deepEqual(channelsOf((await list('?sort=recent&limit=2')).page), [CHESS, TEST_CHANNEL], 'recent: the most recent start first, live or not');
  });

  it('pages with next_cursor through everything once; a cursor continues only its own query', async () => {
    const everything = channelsOf((await list('?limit=100')).page);
    assert.equal(everything.length, 7);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const { page } = await list(query);
      assert.ok(page.items.length <= 2 && page.items.length > 0);
      seen.push(...channelsOf(page));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.equal(pages, 4);
    assert.deepEqual(seen, everything);

    const { page: first } = await list('?limit=2&status=offline');
    assert.ok(first.next_cursor);
    const { page: second } = await list(`?limit=2&status=offline&cursor=${encodeURIComponent(first.next_cursor)}`);
    assert.deepEqual(channelsOf(second), QUIET.slice(1, 3), 'ties continue by channel name');
    const other = await server.request(`/api/v1/streams?limit=2&status=live&cursor=${encodeURIComponent(first.next_cursor)}`);
    assert.equal(other.status, 400);
    assert.match(((await other.json()) as { error: { message: string } }).error.message, /^cursor: /);
  });

  it('revalidates: 304 for the current ETag, HEAD with the same validators, a new ETag when a stream changes', async () => {
    assert.ok(sse);
    const { response: first } = await list();
    const etag = first.headers.get('etag')!;
    const revalidated = await server.request('/api/v1/streams', { headers: { 'If-None-Match': `"other", ${etag}`, 'Cache-Control': 'no-cache' } });
    assert.equal(revalidated.status, 304);
    assert.equal(await revalidated.text(), '');
    assert.equal(revalidated.headers.get('etag'), etag);
    const head = await server.request('/api/v1/streams', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('etag'), etag);
    assert.equal(await head.text(), '');
    const otherQuery = await list('?status=live');
    assert.notEqual(otherQuery.response.headers.get('etag'), etag, 'the ETag is of this page');

    const from = sse.events.length;
    await server.updateTitle('Second segment');
    await nextStatus(sse, (record) => record.channel === TEST_CHANNEL && record.title === 'Second segment', { fromIndex: from });
    const changed = await server.request('/api/v1/streams', { headers: { 'If-None-Match': etag } });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
    assert.equal(((await changed.json()) as StreamsPage).items[0]!.title, 'Second segment');
  });

  it('answers hostile queries with a 400 JSON error naming the parameter, never a 500', async () => {
    const { page } = await list('?limit=1');
    const cursor = page.next_cursor!;
    const tampered = `${cursor.slice(0, 10)}${cursor[10] === 'A' ? 'B' : 'A'}${cursor.slice(11)}`;
    const cases: Array<[string, RegExp]> = [
      ['?status=gone', /^status: /],
      ['?status=live&status=offline', /^status: /],
      ['?status=', /^status: /],
      ['?sort=hot', /^sort: /],
      ['?sort=recent&sort=recent', /^sort: /],
      ['?limit=0', /^limit: /],
      ['?limit=1000', /^limit: /],
      ['?limit=-1', /^limit: /],
      ['?limit=1e999', /^limit: /],
      ['?limit=abc', /^limit: /],
      ['?limit=%00', /^limit: /],
      ['?limit=1&limit=2', /^limit: /],
      [`?q=${'x'.repeat(10_000)}`, /^q: /],
      ['?q=a&q=b', /^q: /],
      [`?tag=${'t'.repeat(65)}`, /^tag: /],
      [`?${Array.from({ length: 11 }, (_, index) => `tag=t${index}`).join('&')}`, /^tag: /],
      [`?cursor=${encodeURIComponent(tampered)}`, /^cursor: /],
      ['?cursor=%E0%A4%A', /^cursor: /],
      [`?cursor=${'A'.repeat(5_000)}`, /^cursor: /],
      ['?cursor=a&cursor=b', /^cursor: /],
      ['?status[]=live', /unknown query parameter "status\[\]"/],
      ['?__proto__=x', /unknown query parameter "__proto__"/],
      ['?constructor=x', /unknown query parameter "constructor"/],
      ['?stauts=live', /unknown query parameter "stauts"/],
    ];
    for (const [query, message] of cases) {
      const response = await rawGet(server.url, `/api/v1/streams${query}`);
      assert.equal(response.status, 400, `${query.slice(0, 60)}: ${response.body.slice(0, 200)}`);
      assert.match(response.type, /^application\/json/);
      const body = JSON.parse(response.body) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'bad_request');
      assert.match(body.error.message, message, query.slice(0, 60));
      assert.ok(response.body.length < 400, 'huge input is not echoed back');
    }
    for (const query of ['?q=%E0%A4%A', '?q=%3Cscript%3E', '?tag=%F0%9F%8E%AE', '?q=', '?cursor=']) {
      const response = await rawGet(server.url, `/api/v1/streams${query}`);
      assert.equal(response.status, 200, `${query}: ${response.body.slice(0, 200)}`);
    }
    const post = await server.request('/api/v1/streams', { method: 'POST' });
    assert.equal(post.status, 405);
    await post.arrayBuffer();
  });

  // Needs `/^\/api\/v1\/streams$/` in PUBLIC_READ_PATHS (server/src/http/middleware/cors.ts, not this change's to edit).
  it('is readable from any origin, like the other public reads', async () => {
    const response = await server.request('/api/v1/streams', { headers: { Origin: 'https://publisher.example' } });
    await response.arrayBuffer();
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.match(response.headers.get('access-control-expose-headers') ?? '', /ETag/i);
    const preflight = await server.request('/api/v1/streams', {
      method: 'OPTIONS',
      headers: { Origin: 'https://publisher.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'if-none-match' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  });
});

describeEachBus('discovery index rate limit', (bus) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { STATUS_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  after(async () => {
    await server.close();
  });

  it('answers 429 with Retry-After once a client used its requests for the minute', async () => {
    for (let request = 0; request < 3; request++) {
      const response = await server.request('/api/v1/streams');
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    const limited = await server.request('/api/v1/streams');
    assert.equal(limited.status, 429);
    assert.match(limited.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
  });
});

describe('discovery index across a fleet on one NATS JetStream', () => {
  let nats: NatsServerHandle;
  const servers: TestServer[] = [];
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    for (const server of servers) await server.close();
    await nats.stop();
  });

  const statusesOn = async (server: TestServer): Promise<Map<string, string>> => {
    const response = await server.request('/api/v1/streams?limit=100');
    assert.equal(response.status, 200);
    const page = (await response.json()) as StreamsPage;
    return new Map(page.items.map((item) => [item.channel, item.status]));
  };

  it('lists what any instance created or heard, and a new instance starts with the whole index', async () => {
    const a = await startTestServer({ natsUrl: nats.url, graceMs: 200 });
    servers.push(a);
    const b = await startTestServer({ natsUrl: nats.url, graceMs: 200, withChannel: false });
    servers.push(b);
    assert.equal((await statusesOn(b)).get(TEST_CHANNEL), 'offline', 'B loaded the channel A created before B started');

    await putChannel(a, 'fleet/late-show', { title: 'Late Show', providers: {} });
    await eventually(async () => (await statusesOn(b)).has('fleet/late-show'), 'B to list the channel created on A');

    const sse = await openSse(`${b.url}/api/v1/live/events?channel=${TEST_CHANNEL}`);
    try {
      await sse.next((event) => event.event === 'snapshot');
      const from = sse.events.length;
      await a.goLive('Fleet-wide news');
      await nextStatus(sse, (record) => record.status === 'live', { fromIndex: from });
    } finally {
      sse.close();
    }
    assert.equal((await statusesOn(b)).get(TEST_CHANNEL), 'live', 'B heard the status A received from Twitch');

    const c = await startTestServer({ natsUrl: nats.url, graceMs: 200, withChannel: false });
    servers.push(c);
    assert.deepEqual([...(await statusesOn(c))], [
      [TEST_CHANNEL, 'live'],
      ['fleet/late-show', 'offline'],
    ]);
  });
});
