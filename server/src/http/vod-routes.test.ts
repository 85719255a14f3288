import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCanonicalId, parseCanonicalId } from '@live-upload/schema';
import { TEST_ADMIN_TOKEN, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { STREAMS, decodeJson } from '../bus/index.js';
import { VodStore, vodJobSchema, type VodRecord, type VodState } from '../vod-jobs/index.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** The replay routes on the real app: the VOD worker is off (WORKERS=moderation), so enqueued jobs stay queued. */
describe('VOD routes', () => {
  let server: TestServer;
  let vods: VodStore;

  before(async () => {
    server = await startTestServer({ withChannel: false, env: { WORKERS: 'moderation' } });
    vods = await VodStore.open(server.running.bus);
    for (const [slug, vod] of [['public-show', 'public'], ['unlisted-show', 'unlisted'], ['off-show', 'off'], ['ask-show', 'unlisted']] as const) {
      const response = await server.request(`/api/v1/channels/acme/${slug}`, { method: 'PUT', admin: true, headers: JSON_HEADERS, body: JSON.stringify({ vod, providers: {} }) });
      assert.equal(response.status, 201);
    }
  });
  after(() => server.close());

  const post = (path: string, body: unknown, init: { admin?: boolean; headers?: Record<string, string> } = { admin: true }) =>
    server.request(path, { method: 'POST', headers: { ...JSON_HEADERS, ...init.headers }, body: typeof body === 'string' ? body : JSON.stringify(body), ...(init.admin ? { admin: true } : {}) });

  async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, code: body.error.code, message: body.error.message };
  }

  /** Replays of `acme/{slug}` in the given states, oldest first (one minute apart). */
  async function seed(slug: string, states: VodState[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [index, state] of states.entries()) {
      const canonicalId = createCanonicalId({ publisher: 'acme', slug }, Date.UTC(2026, 0, 1, 12, index));
      const record: VodRecord = {
        canonical_id: canonicalId,
        channel: `acme/${slug}`,
        state,
        started_at: new Date(Date.UTC(2026, 0, 1, 12, index)).toISOString(),
        ...(state === 'transcoding' ? { progress: { percent: 40, speed: 2 } } : {}),
        updated_at: new Date().toISOString(),
      };
      await vods.update(canonicalId, () => record);
      ids.push(canonicalId);
    }
    return ids;
  }

  const ulidOf = (canonicalId: string) => parseCanonicalId(canonicalId)!.ulid;

  it('enqueues a VOD playlist handed in by the admin: 202, its record queued at Location, one vod-playlist job', async () => {
    const url = 'https://93.184.216.34/shows/vod.m3u8?token=abc';
    const response = await post('/api/v1/channels/acme/ask-show/vods', { url, title: '  Last night  ' });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { vod: VodRecord; location: string };
    const location = response.headers.get('location');
    assert.equal(location, body.location);
    assert.match(location!, /^\/api\/v1\/channels\/acme\/ask-show\/vods\/[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(body.vod.state, 'queued');
    assert.equal(body.vod.title, 'Last night');
    assert.equal(ulidOf(body.vod.canonical_id), location!.split('/').at(-1));

    const jobs = (await server.running.bus.readLatest(STREAMS.vodJobs.name, { limit: 50 })).map((message) => decodeJson(message.data, vodJobSchema));
    const mine = jobs.filter((job) => job.canonical_id === body.vod.canonical_id);
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0]!.source, { kind: 'vod-playlist', url });

    const audit = (await (await server.request('/api/v1/audit?limit=50', { admin: true })).json()) as { records: Array<{ action: string; actor: string; target: string; details?: Record<string, unknown> }> };
    const requested = audit.records.filter((record) => record.action === 'vod.requested' && record.target === body.vod.canonical_id);
    assert.equal(requested.length, 1, 'the hand-in is audited once');
    assert.equal(requested[0]!.actor, 'admin');
    assert.deepEqual(requested[0]!.details, { channel: 'acme/ask-show', source_url: url });

    const asAdmin = await server.request(location!, { admin: true });
    assert.equal(asAdmin.status, 200);
    assert.equal(((await asAdmin.json()) as VodRecord).state, 'queued');
    assert.equal((await server.request(location!)).status, 404, 'not published: nobody else sees it');
  });

  it('refuses hostile or wrong requests with a clear JSON error, and enqueues nothing for them', async () => {
    const path = '/api/v1/channels/acme/ask-show/vods';
    const before = (await server.running.bus.readLatest(STREAMS.vodJobs.name, { limit: 100 })).length;
    const good = { url: 'https://93.184.216.34/vod.m3u8' };
    assert.equal((await errorOf(await post(path, good, { admin: false }))).status, 401);
    assert.equal((await errorOf(await post(path, good, { admin: false, headers: { Authorization: 'Bearer not-the-admin-token-at-all' } }))).status, 401);
    assert.deepEqual(await errorOf(await post('/api/v1/channels/acme/nobody/vods', good)), { status: 404, code: 'not_found', message: 'no channel acme/nobody' });
    assert.equal((await errorOf(await post('/api/v1/channels/ACME/x/vods', good))).code, 'invalid_channel');
    assert.equal((await errorOf(await post(path, '{"url": "https://93.184.216.34/vod.m3u8"'))).code, 'invalid_json');
    assert.equal((await errorOf(await post(path, good, { admin: true, headers: { 'Content-Type': 'text/plain' } }))).code, 'unsupported_media_type');
    const refused: Array<[unknown, RegExp]> = [
      [{}, /^url: /],
      [[good], /^body: /],
      [{ ...good, extra: 1 }, /extra|unrecognized/i],
      [{ url: 42 }, /^url: /],
      [{ ...good, title: '' }, /^title: /],
      [{ ...good, title: 'x'.repeat(301) }, /^title: /],
      [{ url: 'file:///etc/passwd' }, /^url: must be an http or https URL/],
      [{ url: 'ftp://93.184.216.34/vod.m3u8' }, /^url: must be an http or https URL/],
      [{ url: '/relative/vod.m3u8' }, /^url: must be an absolute URL/],
      [{ url: 'https://user:secret@93.184.216.34/vod.m3u8' }, /^url: must not contain credentials/],
      [{ url: 'http://10.1.2.3/vod.m3u8' }, /^url: /],
      [{ url: 'http://127.0.0.1:8080/vod.m3u8' }, /^url: /],
      [{ url: 'http://169.254.169.254/latest/meta-data' }, /^url: /],
      [{ url: 'http://[::1]/vod.m3u8' }, /^url: /],
      [{ url: 'http://[::ffff:10.0.0.1]/vod.m3u8' }, /^url: /],
      [{ url: 'http://0x7f000001/vod.m3u8' }, /^url: /],
      [{ url: `https://93.184.216.34/${'a'.repeat(2100)}.m3u8` }, /^url: /],
      [{ url: 'https://93.184.216.34/vod.m3u8\nHost: evil' }, /^url: /],
    ];
    for (const [body, message] of refused) {
      const error = await errorOf(await post(path, body));
      assert.equal(error.status, 400, JSON.stringify(body).slice(0, 80));
      assert.match(error.message, message, JSON.stringify(body).slice(0, 80));
    }
    const off = await errorOf(await post('/api/v1/channels/acme/off-show/vods', good));
    assert.deepEqual([off.status, off.code], [409, 'conflict']);
    assert.equal((await server.running.bus.readLatest(STREAMS.vodJobs.name, { limit: 100 })).length, before, 'no job enqueued');
  });

  it('lists a public channel\'s published replays to everyone, newest first, paged; the admin sees every state with progress', async () => {
    const ids = await seed('public-show', ['published', 'queued', 'published', 'transcoding', 'published', 'failed', 'published', 'published']);
    const published = ids.filter((_, index) => [0, 2, 4, 6, 7].includes(index)).reverse();
    const first = await server.request('/api/v1/channels/acme/public-show/vods?limit=2', { headers: { Origin: 'https://blog.example' } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('access-control-allow-origin'), '*');
    const page1 = (await first.json()) as { vods: VodRecord[]; next: string | null };
    assert.deepEqual(page1.vods.map((vod) => vod.canonical_id), published.slice(0, 2));
    assert.equal(page1.next, ulidOf(published[1]!));
    const page2 = (await (await server.request(`/api/v1/channels/acme/public-show/vods?limit=2&cursor=${page1.next}`)).json()) as { vods: VodRecord[]; next: string | null };
    assert.deepEqual(page2.vods.map((vod) => vod.canonical_id), published.slice(2, 4));
    const page3 = (await (await server.request(`/api/v1/channels/acme/public-show/vods?limit=2&cursor=${page2.next}`)).json()) as { vods: VodRecord[]; next: string | null };
    assert.deepEqual(page3.vods.map((vod) => vod.canonical_id), published.slice(4));
    assert.equal(page3.next, null);

    const admin = (await (await server.request('/api/v1/channels/acme/public-show/vods?limit=100', { admin: true })).json()) as { vods: VodRecord[]; next: string | null };
    assert.deepEqual(admin.vods.map((vod) => vod.canonical_id), [...ids].reverse());
    assert.deepEqual(admin.vods.find((vod) => vod.state === 'transcoding')?.progress, { percent: 40, speed: 2 });
    assert.equal(admin.next, null);

    const one = await server.request(`/api/v1/channels/acme/public-show/vods/${ulidOf(published[0]!)}`, { headers: { Origin: 'https://blog.example' } });
    assert.equal(one.status, 200);
    assert.equal(one.headers.get('access-control-allow-origin'), '*', 'a page on any origin (the element) reads replays');
    assert.equal(((await one.json()) as VodRecord).canonical_id, published[0]);
    assert.equal((await server.request(`/api/v1/channels/acme/public-show/vods/${ulidOf(ids[3]!)}`)).status, 404, 'transcoding: not public');
    assert.equal((await server.request(`/api/v1/channels/acme/public-show/vods/${ulidOf(ids[3]!)}`, { admin: true })).status, 200);
  });

  it('keeps unlisted replays out of public listings but serves them by link; off serves none; bad paging is a 400', async () => {
    const [unlisted] = await seed('unlisted-show', ['published']);
    const [off] = await seed('off-show', ['published']);
    assert.deepEqual(await (await server.request('/api/v1/channels/acme/unlisted-show/vods')).json(), { vods: [], next: null });
    assert.equal((await server.request(`/api/v1/channels/acme/unlisted-show/vods/${ulidOf(unlisted!)}`)).status, 200);
    assert.equal(((await (await server.request('/api/v1/channels/acme/unlisted-show/vods', { admin: true })).json()) as { vods: VodRecord[] }).vods.length, 1);
    assert.equal((await server.request(`/api/v1/channels/acme/off-show/vods/${ulidOf(off!)}`)).status, 404);
    assert.deepEqual(await (await server.request('/api/v1/channels/acme/off-show/vods')).json(), { vods: [], next: null });

    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=1&limit=2', 'cursor=nope', 'cursor=../../x']) {
      const error = await errorOf(await server.request(`/api/v1/channels/acme/public-show/vods?${query}`));
      assert.deepEqual([error.status, error.code], [400, 'bad_request'], query);
    }
    assert.equal((await errorOf(await server.request('/api/v1/channels/acme/nobody/vods'))).status, 404);
    assert.equal((await server.request('/api/v1/channels/acme/public-show/vods/not-a-ulid')).status, 404);
    const wrongToken = await server.request('/api/v1/channels/acme/public-show/vods', { headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}x` } });
    assert.equal(wrongToken.status, 401);
  });
});
