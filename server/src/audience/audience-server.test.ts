import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { STREAMS, SUBJECTS, createNatsBus, encodeJson, type Bus } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { AudienceAggregator, AudienceStore, type AudienceBeacon, type AudienceReport } from './index.js';

const BEACON_LIMIT = 60;
const session = () => randomBytes(16).toString('base64url');

/** Waits until `check`'s assertions hold (an assertion failing means "not yet"); the last failure names what was missing. */
async function until<T>(what: string, check: () => Promise<T>): Promise<T> {
  let last: unknown;
  try {
    return await eventually(async () => {
      try {
        return { value: await check() };
      } catch (error) {
        if (!(error instanceof assert.AssertionError)) throw error;
        last = error;
        return false;
      }
    }, what).then((found) => found.value);
  } catch (error) {
    throw last ?? error;
  }
}

/**
 * Beacons through the real server (route, intake, bus, the aggregator of WORKERS' `audience`)
 * into the audience report, on both buses; hostile beacons refused with JSON errors; and two
 * aggregators folding one burst into the same minute without losing a count.
 */
describeEachBus('audience beacons and report', (bus) => {
  let server: TestServer;
  let canonicalId: string;

  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), env: { BEACON_RATE_LIMIT_PER_MINUTE: String(BEACON_LIMIT), PUBLIC_URL: 'https://live.example' } });
    await server.goLive('Morning');
    // The webhook's 2xx means accepted, not applied: the pipeline makes the channel LIVE after it.
    canonicalId = await eventually(async () => {
      const record = (await (await server.request(`/api/v1/channels/${TEST_CHANNEL}`)).json()) as { status?: string; canonical_id?: string | null };
      return record.status === 'live' && record.canonical_id;
    }, 'the channel LIVE with a canonical_id');
  });
  after(async () => {
    await server.close();
  });

  const beacon = (body: Record<string, unknown>, init: { type?: string; origin?: string } = {}) =>
    server.request('/api/v1/beacons', {
      method: 'POST',
      headers: { 'Content-Type': init.type ?? 'text/plain;charset=UTF-8', ...(init.origin ? { Origin: init.origin } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const report = async () => {
    const response = await server.request(`/api/v1/channels/${TEST_CHANNEL}/broadcasts/${encodeURIComponent(canonicalId)}/audience`, { admin: true });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as AudienceReport;
  };

  it('counts distinct viewing sessions by source and surface, clips and uploads once each, and keeps no referrer URL', async () => {
    const fromTwitch = session();
    const fromBlog = session();
    const onLanding = session();
    const base = { canonical_id: canonicalId, channel: TEST_CHANNEL };
    // All in one minute (the grain): near a minute's end, start with the next one.
    const leftOfMinute = 60_000 - (Date.now() % 60_000);
    if (leftOfMinute < 5_000) await new Promise((resolve) => setTimeout(resolve, leftOfMinute + 50));
    const sent = [
      beacon({ ...base, event: 'start', surface: 'embed', referrer: 'https://www.twitch.tv/acme_live?x=1', session: fromTwitch }, { origin: 'https://blog.example' }),
      beacon({ ...base, event: 'heartbeat', surface: 'embed', referrer: 'twitch', session: fromTwitch }, { origin: 'https://blog.example' }),
      beacon({ ...base, event: 'clip', surface: 'embed', referrer: 'twitch', session: fromTwitch, n: 1 }, { origin: 'https://blog.example' }),
      // The same clip again (a retried beacon): one clip.
      beacon({ ...base, event: 'clip', surface: 'embed', referrer: 'twitch', session: fromTwitch, n: 1 }, { origin: 'https://blog.example' }),
      beacon({ ...base, event: 'start', surface: 'embed', host_origin: 'https://news.example', referrer: 'https://forum.example/t/alice?token=secret', session: fromBlog }, { type: 'application/json' }),
      beacon({ ...base, event: 'start', surface: 'landing', referrer: 'https://live.example/c/acme/other', session: onLanding }),
      beacon({ ...base, event: 'upload', surface: 'landing', session: onLanding, n: 1 }),
    ];
    for (const response of await Promise.all(sent)) assert.equal(response.status, 202, await response.text());

    const found = await until('the beacons folded into the report', async () => {
      const current = await report();
      assert.equal(current.clips, 1);
      assert.equal(current.uploads, 1);
      assert.equal(current.peak_concurrent.ours.viewers, 3);
      return current;
    });
    const minute = found.minutes.at(-1)!;
    assert.deepEqual(minute.by_source, { twitch: 1, 'https://forum.example': 1, direct: 1 });
    assert.deepEqual(minute.by_surface, { 'embed https://blog.example': 1, 'embed https://news.example': 1, landing: 1 });
    assert.equal(found.watch_time_s, 3 * 60);
    assert.equal(found.by_source['twitch']?.clips, 1);
    const text = JSON.stringify(found);
    assert.ok(!text.includes('alice') && !text.includes('token=') && !text.includes(fromTwitch), 'no path, query or raw session id is kept');
  });

  it('refuses hostile beacons with clear JSON errors', async () => {
    const base = { canonical_id: canonicalId, channel: TEST_CHANNEL, event: 'heartbeat', surface: 'landing', session: session() };
    const otherChannelId = createCanonicalId({ publisher: 'acme', slug: 'other-show' }, Date.now());
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['not JSON', beacon('{"canonical_id":' as unknown as Record<string, unknown>), 400, 'invalid_json'],
      ['a form post', beacon(base, { type: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type'],
      ['an unknown field', beacon({ ...base, user_id: 'alice' }), 400, 'invalid_body'],
      ['an unknown event', beacon({ ...base, event: 'purchase' }), 400, 'invalid_body'],
      ['a short session id', beacon({ ...base, session: 'abc' }), 400, 'invalid_body'],
      ['a canonical id of another channel', beacon({ ...base, canonical_id: otherChannelId }), 400, 'invalid_body'],
      ['a broadcast not started', beacon({ ...base, canonical_id: createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, Date.now() + 3_600_000) }), 400, 'invalid_body'],
      ['a channel that does not exist', beacon({ ...base, channel: 'acme/other-show', canonical_id: otherChannelId }), 404, 'not_found'],
      ['a huge body', beacon({ ...base, referrer: `https://x.example/${'a'.repeat(4000)}` }), 413, 'payload_too_large'],
    ];
    for (const [name, pending, status, code] of cases) {
      const response = await pending;
      assert.equal(response.status, status, `${name}: ${response.status}`);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, code, name);
      assert.ok(body.error.message.length > 0, name);
    }
  });

  it('lets the admin and the channel publisher read the report, nobody else', async () => {
    const path = `/api/v1/channels/${TEST_CHANNEL}/broadcasts/${encodeURIComponent(canonicalId)}/audience`;
    assert.equal((await server.request(path)).status, 401);
    assert.equal((await server.request(path, { headers: { Authorization: 'Bearer nope' } })).status, 403);
    const granted = await server.request(`/api/v1/channels/${TEST_CHANNEL}/publisher-grants`, {
      method: 'POST',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ capabilities: ['audience'] }),
    });
    assert.equal(granted.status, 201);
    const { token } = (await granted.json()) as { token: string };
    assert.equal((await server.request(path, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    const foreign = createCanonicalId({ publisher: 'acme', slug: 'other-show' }, Date.now());
    assert.equal((await server.request(`/api/v1/channels/${TEST_CHANNEL}/broadcasts/${encodeURIComponent(foreign)}/audience`, { admin: true })).status, 404);
    assert.equal((await server.request(`/api/v1/channels/${TEST_CHANNEL}/broadcasts/nope/audience`, { admin: true })).status, 400);
  });

  it('two aggregators folding one burst into the same minute lose no count', async () => {
    // A second replica's aggregator, on a bus of its own (NATS) or the same process bus (memory).
    const second: Bus = bus.kind === 'nats' ? await createNatsBus({ url: bus.natsUrl()!, name: 'audience-replica' }) : server.running.bus;
    const replica = new AudienceAggregator({ bus: second, store: await AudienceStore.open(second), logger: createLogger({ level: 'silent' }) });
    await replica.start();
    try {
      const broadcast = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, Date.now() - 1000);
      const at = Date.now();
      const sessions = Array.from({ length: 200 }, (_, index) => `s${index}`);
      await Promise.all(
        sessions.map((id, index) => {
          const beacon: AudienceBeacon = { canonical_id: broadcast, channel: TEST_CHANNEL, event: index % 10 === 0 ? 'clip' : 'heartbeat', surface: 'landing', host: null, source: 'direct', session: id, n: index % 10 === 0 ? 1 : 0, at };
          return server.running.bus.publish(SUBJECTS.audienceBeacons({ publisher: 'acme', slug: 'morning-show' }), encodeJson(beacon));
        }),
      );
      const store = await AudienceStore.open(server.running.bus);
      await until('every beacon of the burst folded', async () => {
        const minutes = await store.minutesOf(broadcast);
        assert.equal(minutes.length, 1);
        assert.equal(minutes[0]!.cells[0]!.sessions.length, 200);
        assert.equal(minutes[0]!.cells[0]!.clips.length, 20);
        const totals = await store.totalsOf(broadcast);
        assert.equal(totals?.viewer_minutes, 200);
        assert.equal(totals?.clips, 20);
      });
      // Raw beacons are not kept: the work queue is empty once they are folded.
      await until('the work queue emptied', async () => assert.deepEqual(await server.running.bus.readLatest(STREAMS.audienceBeacons.name, { limit: 1 }), []));
    } finally {
      await replica.stop();
      if (second !== server.running.bus) await second.close();
    }
  });

  it('rate-limits beacons per client network with 429 and Retry-After', async () => {
    const base = { canonical_id: canonicalId, channel: TEST_CHANNEL, event: 'heartbeat', surface: 'landing', session: session() };
    let limited: Response | undefined;
    for (let sent = 0; sent <= BEACON_LIMIT && !limited; sent++) {
      const response = await beacon(base);
      if (response.status === 429) limited = response;
      else await response.arrayBuffer();
    }
    assert.ok(limited, 'a client past the limit is refused');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
  });
});
