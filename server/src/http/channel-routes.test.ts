import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCanonicalId, liveMetadataSchema, liveStatusSummarySchema, type LiveMetadata } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { VodStore, type VodRecord, type VodState } from '../vod-jobs/index.js';

async function errorCode(response: Response): Promise<string> {
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  return ((await response.json()) as { error: { code: string } }).error.code;
}

const json = { 'Content-Type': 'application/json' };

describeEachBus('channel routes', (bus) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { STATUS_RATE_LIMIT_PER_MINUTE: '8' } });
  });
  after(() => server.close());

  const put = (path: string, body: unknown, init: { admin?: boolean; headers?: Record<string, string> } = { admin: true }) =>
    server.request(`/api/v1/channels/${path}`, {
      method: 'PUT',
      admin: init.admin,
      headers: init.headers ?? json,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('creates a channel with 201, updates it with 200', async () => {
    const created = await put('acme/evening', { title: 'Evening', providers: { twitch: { user_id: '777', login: 'Acme_Evening' } } });
    assert.equal(created.status, 201);
    const config = (await created.json()) as { channel: string; providers: { twitch: { login: string; state: string } } };
    assert.equal(config.channel, 'acme/evening');
    assert.equal(config.providers.twitch.login, 'acme_evening');
    assert.equal(config.providers.twitch.state, 'active');
    const updated = await put('acme/evening', { title: 'Evening news', providers: { twitch: { user_id: '777', login: 'acme_evening' } } });
    assert.equal(updated.status, 200);
    const record = (await (await server.request('/api/v1/channels/acme/evening')).json()) as { title: string; providers: { twitch: { login: string; url: string } } };
    assert.equal(record.title, 'Evening news');
    assert.equal(record.providers.twitch.url, 'https://www.twitch.tv/acme_evening');
  });

  it('refuses writes without the admin token, or with a wrong one', async () => {
    const body = { providers: {} };
    let response = await put('acme/x', body, { admin: false });
    assert.equal(response.status, 401);
    assert.equal(await errorCode(response), 'unauthorized');
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
    for (const authorization of [`Bearer ${TEST_ADMIN_TOKEN}x`, `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}`, `Basic ${TEST_ADMIN_TOKEN}`, 'Bearer ', TEST_ADMIN_TOKEN]) {
      response = await put('acme/x', body, { admin: false, headers: { ...json, Authorization: authorization } });
      assert.equal(response.status, 401, authorization);
    }
  });

  it('names the bad field in a 400', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ providers: { twitch: { user_id: 'abc', login: 'x' } } }, /providers\.twitch\.user_id/],
      [{ providers: { twitch: { user_id: '1', login: 'no spaces' } } }, /providers\.twitch\.login/],
      [{ title: 'x'.repeat(200), providers: {} }, /title/],
      [{ title: 7, providers: {} }, /title/],
      [{}, /providers/],
      [{ providers: { myspace: {} } }, /providers/],
      [{ providers: {}, admin: true }, /admin|unrecognized/i],
      [[], /body|expected object/i],
    ];
    for (const [body, field] of cases) {
      const response = await put('acme/x', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'invalid_body');
      assert.match(error.message, field);
    }
  });

  it('refuses invalid JSON, a non-JSON content type and an oversize body', async () => {
    let response = await put('acme/x', '{"providers": {');
    assert.equal(response.status, 400);
    assert.equal(await errorCode(response), 'invalid_json');
    response = await put('acme/x', '{"providers":{}}', { admin: true, headers: { 'Content-Type': 'text/plain' } });
    assert.equal(response.status, 415);
    response = await put('acme/x', JSON.stringify({ title: 'x', providers: {}, pad: 'y'.repeat(200_000) }));
    assert.equal(response.status, 413);
    assert.equal(await errorCode(response), 'payload_too_large');
  });

  it('refuses path traversal and malformed publisher or slug', async () => {
    for (const path of ['..%2F..%2Fetc/passwd', 'acme/..%2F..%2Fsecrets', 'Acme/show', 'acme/show%00', '-acme/show', `acme/${'x'.repeat(40)}`, 'ac%20me/show']) {
      const response = await put(path, { providers: {} });
      assert.ok([400, 404].includes(response.status), `${path}: ${response.status}`);
      await errorCode(response);
      const read = await server.request(`/api/v1/channels/${path}`);
      assert.ok([400, 404].includes(read.status), `${path}: ${read.status}`);
      await errorCode(read);
    }
  });

  it('links a provider account to one channel only (409)', async () => {
    assert.equal((await put('acme/one', { providers: { twitch: { user_id: '8080', login: 'shared' } } })).status, 201);
    const response = await put('acme/two', { providers: { twitch: { user_id: '8080', login: 'shared' } } });
    assert.equal(response.status, 409);
    assert.equal(await errorCode(response), 'conflict');
    // Unlinking from the first frees the account for the second.
    assert.equal((await put('acme/one', { providers: {} })).status, 200);
    assert.equal((await put('acme/two', { providers: { twitch: { user_id: '8080', login: 'shared' } } })).status, 201);
  });

  const readRecord = async (channel: string) =>
    (await (await server.request(`/api/v1/channels/${channel}`)).json()) as LiveMetadata;

  it('sets a playback URL, keeps it when omitted, removes it with null', async () => {
    const hls = 'https://cdn.example/acme/live/index.m3u8?token=a%20b';
    const created = await put('acme/player', { title: 'Player', playback: { hls }, providers: {} });
    assert.equal(created.status, 201);
    assert.deepEqual(((await created.json()) as { playback: unknown }).playback, { hls });
    assert.deepEqual((await readRecord('acme/player')).playback, { hls });
    assert.equal(liveMetadataSchema.safeParse(await readRecord('acme/player')).success, true);

    assert.equal((await put('acme/player', { title: 'Player 2', providers: {} })).status, 200);
    const kept = await readRecord('acme/player');
    assert.equal(kept.title, 'Player 2');
    assert.deepEqual(kept.playback, { hls });

    const moved = 'http://127.0.0.1:9/other.m3u8';
    assert.equal((await put('acme/player', { playback: { hls: moved }, providers: {} })).status, 200);
    assert.deepEqual((await readRecord('acme/player')).playback, { hls: moved });

    const removed = await put('acme/player', { playback: null, providers: {} });
    assert.equal(removed.status, 200);
    assert.equal(((await removed.json()) as { playback: unknown }).playback, null);
    assert.equal('playback' in (await readRecord('acme/player')), false);
  });

  it('sets a channel\'s origin limits below the server\'s, keeps them when omitted, clears them with null; never in the public record', async () => {
    type Limits = { origin_limits: unknown };
    const created = await put('acme/limited', { title: 'Limited', origin_limits: { max_bitrate_kbps: 2500, max_short_side_px: 720 }, providers: {} });
    assert.equal(created.status, 201);
    assert.deepEqual(((await created.json()) as Limits).origin_limits, { max_bitrate_kbps: 2500, max_short_side_px: 720 });
    assert.equal('origin_limits' in (await readRecord('acme/limited')), false, 'an admin setting, not part of the published record');

    const kept = await put('acme/limited', { title: 'Limited 2', providers: {} });
    assert.deepEqual(((await kept.json()) as Limits).origin_limits, { max_bitrate_kbps: 2500, max_short_side_px: 720 });
    const atCeiling = await put('acme/limited', { origin_limits: { max_bitrate_kbps: 8000 }, providers: {} });
    assert.equal(atCeiling.status, 200, 'the server\'s own limit is allowed');
    assert.deepEqual(((await atCeiling.json()) as Limits).origin_limits, { max_bitrate_kbps: 8000 });
    const emptied = await put('acme/limited', { origin_limits: {}, providers: {} });
    assert.equal(((await emptied.json()) as Limits).origin_limits, null, '{} means the server\'s limits');
    await put('acme/limited', { origin_limits: { max_short_side_px: 360 }, providers: {} });
    const cleared = await put('acme/limited', { origin_limits: null, providers: {} });
    assert.equal(((await cleared.json()) as Limits).origin_limits, null);
  });

  it('refuses hostile origin limits with a 400 naming the field, and limits above the server\'s with its maximum named', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ max_bitrate_kbps: -1 }, /origin_limits\.max_bitrate_kbps/],
      [{ max_bitrate_kbps: 0 }, /origin_limits\.max_bitrate_kbps/],
      [{ max_bitrate_kbps: 99 }, /origin_limits\.max_bitrate_kbps/],
      [{ max_bitrate_kbps: 2500.5 }, /origin_limits\.max_bitrate_kbps/],
      [{ max_bitrate_kbps: '2500' }, /origin_limits\.max_bitrate_kbps/],
      [{ max_bitrate_kbps: 1e308 }, /origin_limits\.max_bitrate_kbps/],
      [{ max_bitrate_kbps: null }, /origin_limits\.max_bitrate_kbps/],
      [{ max_short_side_px: 100 }, /origin_limits\.max_short_side_px/],
      [{ max_short_side_px: 10_000 }, /origin_limits\.max_short_side_px/],
      [{ max_short_side_px: [720] }, /origin_limits\.max_short_side_px/],
      [{ max_bitrate_kbps: 1000, __proto__: { x: 1 }, fps: 60 }, /origin_limits|unrecognized/i],
      ['fast', /origin_limits/],
      [[1000, 720], /origin_limits/],
      [{ max_bitrate_kbps: 9000 }, /origin_limits\.max_bitrate_kbps: 9000 is above this server's maximum of 8000 \(ORIGIN_MAX_BITRATE_KBPS\)/],
      [{ max_short_side_px: 2160 }, /origin_limits\.max_short_side_px: 2160 is above this server's maximum of 1080/],
    ];
    for (const [limits, field] of cases) {
      const response = await put('acme/hostile-limits', { origin_limits: limits, providers: {} });
      assert.equal(response.status, 400, JSON.stringify(limits));
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'invalid_body');
      assert.match(error.message, field, JSON.stringify(limits));
    }
    assert.equal((await server.request('/api/v1/channels/acme/hostile-limits')).status, 404, 'nothing refused was written');
  });

  it('refuses a playback URL that is not an absolute http(s) URL, with a 400 naming playback.hls', async () => {
    const hostile: unknown[] = [
      'javascript:alert(document.cookie)',
      ' javascript:alert(1)',
      'data:application/vnd.apple.mpegurl;base64,I0VYVE0zVQo=',
      'file:///etc/passwd',
      'blob:https://cdn.example/0d5f',
      'ftp://cdn.example/live.m3u8',
      '/demo/live/index.m3u8',
      '../index.m3u8',
      '//cdn.example/live.m3u8',
      'https://admin:hunter2@cdn.example/live.m3u8',
      'https://cdn.example/live.m3u8\r\nX-Injected: 1',
      `https://cdn.example/${'a'.repeat(3000)}.m3u8`,
      '',
      7,
      true,
      ['https://cdn.example/live.m3u8'],
      { href: 'https://cdn.example/live.m3u8' },
    ];
    for (const hls of hostile) {
      const response = await put('acme/hostile-player', { playback: { hls }, providers: {} });
      assert.equal(response.status, 400, JSON.stringify(hls).slice(0, 80));
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'invalid_body');
      assert.match(error.message, /playback\.hls/);
    }
    for (const playback of ['https://cdn.example/live.m3u8', {}, { hls: 'https://cdn.example/a.m3u8', dash: 'https://cdn.example/a.mpd' }, 0]) {
      const response = await put('acme/hostile-player', { playback, providers: {} });
      assert.equal(response.status, 400, JSON.stringify(playback));
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /playback/);
    }
    assert.equal((await server.request('/api/v1/channels/acme/hostile-player')).status, 404, 'nothing was created');
  });

  const YOUTUBE_ID = 'UC_x5XG1OV2P6uZZ5FSM9Ttw';
  const DID = 'did:plc:z72i7hdynmk6r22z27h6tvur';

  it('links YouTube and Bluesky accounts and shows them in the record', async () => {
    const created = await put('acme/simulcast', {
      providers: { twitch: { user_id: '9191', login: 'acme_simulcast' }, youtube: { channel_id: YOUTUBE_ID }, bluesky: { did: DID } },
    });
    assert.equal(created.status, 201);
    const config = (await created.json()) as { providers: Record<string, unknown> };
    assert.deepEqual(config.providers['youtube'], { channel_id: YOUTUBE_ID });
    assert.deepEqual(config.providers['bluesky'], { did: DID });
    const record = await readRecord('acme/simulcast');
    assert.deepEqual(record.providers.youtube, { id: null, channel_id: YOUTUBE_ID, url: `https://www.youtube.com/channel/${YOUTUBE_ID}` });
    assert.deepEqual(record.providers.bluesky, { did: DID, post_uri: null });
    assert.equal(await server.running.channels.findByAccount('youtube', YOUTUBE_ID), 'acme/simulcast');
    assert.equal(await server.running.channels.findByAccount('bluesky', DID), 'acme/simulcast');

    // Unlinking YouTube keeps the others, and the record follows.
    assert.equal((await put('acme/simulcast', { providers: { twitch: { user_id: '9191', login: 'acme_simulcast' }, bluesky: { did: DID } } })).status, 200);
    assert.equal(await server.running.channels.findByAccount('youtube', YOUTUBE_ID), undefined);
    const after = await readRecord('acme/simulcast');
    assert.equal(after.providers.youtube, undefined);
    assert.deepEqual(after.providers.bluesky, { did: DID, post_uri: null });
    assert.equal(after.providers.twitch?.user_id, '9191');
  });

  it('links a YouTube channel or a Bluesky DID to one channel only (409), and gives back what a refused write claimed', async () => {
    const youtube = 'UCaaaaaaaaaaaaaaaaaaaa-_';
    const did = 'did:web:acme-tv.example';
    assert.equal((await put('acme/yt-one', { providers: { youtube: { channel_id: youtube }, bluesky: { did } } })).status, 201);
    let response = await put('acme/yt-two', { providers: { youtube: { channel_id: youtube } } });
    assert.equal(response.status, 409);
    assert.equal(await errorCode(response), 'conflict');
    response = await put('acme/yt-two', { providers: { bluesky: { did } } });
    assert.equal(response.status, 409);

    // A write that claims a free Twitch account and a taken DID is refused whole: the Twitch account stays free.
    response = await put('acme/yt-two', { providers: { twitch: { user_id: '5151', login: 'free_account' }, bluesky: { did } } });
    assert.equal(response.status, 409);
    assert.equal(await server.running.channels.findByAccount('twitch', '5151'), undefined);
    assert.equal((await put('acme/yt-three', { providers: { twitch: { user_id: '5151', login: 'free_account' } } })).status, 201);

    // Unlinking frees both accounts for another channel.
    assert.equal((await put('acme/yt-one', { providers: {} })).status, 200);
    assert.equal((await put('acme/yt-two', { providers: { youtube: { channel_id: youtube }, bluesky: { did } } })).status, 201);
    assert.equal(await server.running.channels.findByAccount('youtube', youtube), 'acme/yt-two');
    assert.equal(await server.running.channels.findByAccount('bluesky', did), 'acme/yt-two');
  });

  it('refuses malformed YouTube channel ids and DIDs, and finds nothing for them', async () => {
    const badYoutube: unknown[] = ['', 'UC', 'UC_x5XG1OV2P6uZZ5FSM9Tt', 'UC_x5XG1OV2P6uZZ5FSM9Ttww', 'HC_x5XG1OV2P6uZZ5FSM9Ttw', 'UC_x5XG1OV2P6uZZ5FSM9T.w', '../../etc/passwd', 'UC_x5XG1OV2P6uZZ5FSM9T*w', 123, null];
    for (const channel_id of badYoutube) {
      const response = await put('acme/bad-links', { providers: { youtube: { channel_id } } });
      assert.equal(response.status, 400, String(channel_id));
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /providers\.youtube\.channel_id/);
    }
    const badDids: unknown[] = ['', 'did:plc:short', 'did:plc:Z72I7HDYNMK6R22Z27H6TVUR', 'did:web:localhost', 'did:web:example.com:user:alice', 'did:key:z6Mk', 'at://did:plc:z72i7hdynmk6r22z27h6tvur', `did:web:${'a'.repeat(300)}.com`, 'did:plc:z72i7hdynmk6r22z27h6tvur\n', 5];
    for (const did of badDids) {
      const response = await put('acme/bad-links', { providers: { bluesky: { did } } });
      assert.equal(response.status, 400, String(did));
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /providers\.bluesky\.did/);
    }
    for (const body of [{ providers: { youtube: { channel_id: YOUTUBE_ID, url: 'x' } } }, { providers: { bluesky: { did: DID, post_uri: 'at://x' } } }, { providers: { youtube: YOUTUBE_ID } }]) {
      assert.equal((await put('acme/bad-links', body)).status, 400, JSON.stringify(body));
    }
    for (const id of ['../x', 'youtube.UC_x5XG1OV2P6uZZ5FSM9Ttw', '*', '>', '']) {
      assert.equal(await server.running.channels.findByAccount('youtube', id), undefined, id);
      assert.equal(await server.running.channels.findByAccount('bluesky', id), undefined, id);
    }
  });

  it('answers 404 JSON for an unknown channel and an unknown route', async () => {
    let response = await server.request('/api/v1/channels/nobody/here');
    assert.equal(response.status, 404);
    assert.equal(await errorCode(response), 'not_found');
    response = await server.request('/api/v1/nothing');
    assert.equal(response.status, 404);
    assert.equal(await errorCode(response), 'not_found');
    response = await server.request(`/api/v1/channels/${TEST_CHANNEL}`, { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(await errorCode(response), 'method_not_allowed');
  });

  it('serves a small cacheable status with ETag, 304, CORS and a rate limit', async () => {
    const first = await server.request(`/api/v1/channels/${TEST_CHANNEL}/status`, { headers: { Origin: 'https://elsewhere.example' } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('access-control-allow-origin'), '*');
    assert.match(first.headers.get('cache-control') ?? '', /max-age=\d+/);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    const summary = liveStatusSummarySchema.strict().parse(await first.json());
    assert.equal(summary.status, 'offline');

    const again = await server.request(`/api/v1/channels/${TEST_CHANNEL}/status`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);

    await server.goLive();
    const changed = await server.request(`/api/v1/channels/${TEST_CHANNEL}/status`, { headers: { 'If-None-Match': etag } });
    // Either we already see the change (200, new ETag) or not yet (304); it may never be a 200 with the old ETag.
    if (changed.status === 200) assert.notEqual(changed.headers.get('etag'), etag);

    let limited: Response | undefined;
    for (let i = 0; i < 12 && !limited; i++) {
      const response = await server.request(`/api/v1/channels/${TEST_CHANNEL}/status`);
      if (response.status === 429) limited = response;
    }
    assert.ok(limited, 'the status endpoint must rate-limit a client');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(await errorCode(limited), 'rate_limited');
  });

  it('answers CORS preflight for public reads', async () => {
    const response = await server.request(`/api/v1/channels/${TEST_CHANNEL}`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'last-event-id' },
    });
    assert.ok(response.status === 204 || response.status === 200);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
  });
});

/** `/status` lists the channel's latest public replay (issue 21), on the real app with the VOD worker off. */
describe('channel status: latest_replay', () => {
  let server: TestServer;
  let vods: VodStore;

  before(async () => {
    server = await startTestServer({ withChannel: false, env: { WORKERS: 'moderation', STATUS_RATE_LIMIT_PER_MINUTE: '1000' } });
    vods = await VodStore.open(server.running.bus);
    for (const [slug, vod] of [['public-show', 'public'], ['unlisted-show', 'unlisted']] as const) {
      const response = await server.request(`/api/v1/channels/acme/${slug}`, { method: 'PUT', admin: true, headers: json, body: JSON.stringify({ vod, providers: {} }) });
      assert.equal(response.status, 201);
    }
  });
  after(() => server.close());

  /** A replay of `acme/{slug}` started `minute` minutes after noon, 2026-01-01. */
  async function seed(slug: string, minute: number, state: VodState, extra: Partial<VodRecord> = {}): Promise<VodRecord> {
    const startedMs = Date.UTC(2026, 0, 1, 12, minute);
    const canonicalId = createCanonicalId({ publisher: 'acme', slug }, startedMs);
    const record: VodRecord = {
      canonical_id: canonicalId,
      channel: `acme/${slug}`,
      state,
      started_at: new Date(startedMs).toISOString(),
      updated_at: new Date().toISOString(),
      ...extra,
    };
    await vods.update(canonicalId, () => record);
    return record;
  }

  const status = async (slug: string, headers: Record<string, string> = {}) => {
    const response = await server.request(`/api/v1/channels/acme/${slug}/status`, { headers });
    return { response, summary: response.status === 200 ? liveStatusSummarySchema.strict().parse(await response.json()) : undefined };
  };

  it('is null until a replay is published, then names the newest published one with absolute URLs, and changes the ETag', async () => {
    const empty = await status('public-show');
    assert.equal(empty.summary?.latest_replay, null);
    await seed('public-show', 0, 'failed');
    await seed('public-show', 1, 'transcoding', { progress: { percent: 10 } });
    await seed('public-show', 1, 'cancelled');
    const etag = (await status('public-show')).response.headers.get('etag')!;
    assert.equal((await status('public-show', { 'If-None-Match': etag })).response.status, 304, 'nothing published: same answer');

    const published = await seed('public-show', 1, 'published', {
      ended_at: '2026-01-01T13:01:00.000Z',
      duration_s: 3600,
      urls: { master: '/vod/acme/public-show/a/master.m3u8', poster: '/vod/acme/public-show/a/poster.jpg' },
    });
    await seed('public-show', 2, 'queued');
    const after = await status('public-show', { 'If-None-Match': etag });
    assert.equal(after.response.status, 200, 'a newly published replay is a new answer');
    assert.notEqual(after.response.headers.get('etag'), etag);
    assert.deepEqual(after.summary?.latest_replay, {
      canonical_id: published.canonical_id,
      url: `${server.url}/vod/acme/public-show/a/master.m3u8`,
      poster: `${server.url}/vod/acme/public-show/a/poster.jpg`,
      duration_s: 3600,
      ended_at: '2026-01-01T13:01:00.000Z',
    });

    const newer = await seed('public-show', 3, 'published', { urls: { master: '/vod/acme/public-show/b/master.m3u8' } });
    const newest = await status('public-show');
    assert.deepEqual(newest.summary?.latest_replay, {
      canonical_id: newer.canonical_id,
      url: `${server.url}/vod/acme/public-show/b/master.m3u8`,
      poster: null,
      duration_s: null,
      ended_at: null,
    });
  });

  it('is null for a channel whose replays are unlisted, published or not', async () => {
    await seed('unlisted-show', 0, 'published', { urls: { master: '/vod/acme/unlisted-show/a/master.m3u8' } });
    assert.equal((await status('unlisted-show')).summary?.latest_replay, null);
  });
});
