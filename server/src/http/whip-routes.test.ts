import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OriginSessions } from '../origin/index.js';
import { PublisherGrants } from '../publishers/index.js';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';
import { eventually } from '../../../test/support/eventually.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, TEST_UPLOAD_TOKEN_SECRET } from '../../../test/support/test-server.js';
import { startWhipTestServer, type WhipTestServer } from '../../../test/support/whip-test-server.js';
import { publishWithLibwebrtc } from '../../../test/support/whip-wrtc-publisher.js';

/** A browser-like offer text (never connected): enough for the checks before a peer connection. */
const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdef012345',
  'a=fingerprint:sha-256 AA:BB:CC',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendonly',
  'a=rtpmap:96 VP8/90000',
  '',
].join('\r\n');

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

describe('WHIP routes (RFC 9725): every refusal a clear JSON error', () => {
  let server: WhipTestServer;
  before(async () => {
    server = await startWhipTestServer();
  });
  after(async () => {
    await server.close();
  });
  const post = (body: BodyInit, headers: Record<string, string>, channel = TEST_CHANNEL) => fetch(server.whipUrl(channel), { method: 'POST', headers, body });

  it('401 without a grant or with an expired one (with WWW-Authenticate), 403 for a forged one, another channel\'s, or one without go-live', async () => {
    const sdp = { 'Content-Type': 'application/sdp' };
    const missing = await post(OFFER, sdp);
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await errorOf(missing)).code, 'unauthorized');

    const old = await new PublisherGrants({ secret: TEST_UPLOAD_TOKEN_SECRET, now: () => Date.now() - 2 * 3600_000 }).sign({ channel: TEST_CHANNEL, capabilities: ['go-live'] });
    const expired = await post(OFFER, { ...sdp, Authorization: `Bearer ${old.token}` });
    assert.equal(expired.status, 401);
    assert.match((await errorOf(expired)).message, /expired/);

    const forged = await new PublisherGrants({ secret: 'another-secret-0123456789abcdef0123' }).sign({ channel: TEST_CHANNEL, capabilities: ['go-live'] });
    assert.equal((await post(OFFER, { ...sdp, Authorization: `Bearer ${forged.token}` })).status, 403);
    const otherChannel = await new PublisherGrants({ secret: TEST_UPLOAD_TOKEN_SECRET }).sign({ channel: 'other/show', capabilities: ['go-live'] });
    const wrongChannel = await post(OFFER, { ...sdp, Authorization: `Bearer ${otherChannel.token}` });
    assert.equal(wrongChannel.status, 403);
    assert.match((await errorOf(wrongChannel)).message, /another channel/);
    const replayOnly = await post(OFFER, { ...sdp, Authorization: `Bearer ${await server.grant({ capabilities: ['replay-upload'] })}` });
    assert.equal(replayOnly.status, 403);
    assert.match((await errorOf(replayOnly)).message, /go-live/);
  });

  it('415 for another media type, 413 for a huge offer, 400 for what is not SDP text, 422 for an offer without a usable codec, 404 for no such channel', async () => {
    const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const json = await post(JSON.stringify({ sdp: OFFER }), { ...auth, 'Content-Type': 'application/json' });
    assert.equal(json.status, 415);
    assert.equal(json.headers.get('accept-post'), 'application/sdp');
    assert.equal((await errorOf(json)).code, 'unsupported_media_type');
    assert.equal((await post(OFFER, auth)).status, 415, 'no Content-Type at all');

    const huge = await post(OFFER + `a=x-padding:${'x'.repeat(70 * 1024)}\r\n`, { ...auth, 'Content-Type': 'application/sdp' });
    assert.equal(huge.status, 413);
    assert.equal((await errorOf(huge)).code, 'payload_too_large');

    const binary = await post(new Uint8Array([0xff, 0xfe, 0x00, 0x76, 0x3d, 0x30]), { ...auth, 'Content-Type': 'application/sdp' });
    assert.equal(binary.status, 400);
    const notSdp = await post('hello', { ...auth, 'Content-Type': 'application/sdp; charset=utf-8' });
    assert.equal(notSdp.status, 400);
    assert.match((await errorOf(notSdp)).message, /not an SDP offer/);

    const vp9 = await post(OFFER.replace('VP8/90000', 'VP9/90000'), { ...auth, 'Content-Type': 'application/sdp' });
    assert.equal(vp9.status, 422);
    const body = await errorOf(vp9);
    assert.equal(body.code, 'unprocessable');
    assert.match(body.message, /H\.264|VP8/);
    const audioOnly = await post(OFFER.replace('m=video 9 UDP/TLS/RTP/SAVPF 96', 'm=audio 9 UDP/TLS/RTP/SAVPF 96').replace('VP8/90000', 'opus/48000/2'), { ...auth, 'Content-Type': 'application/sdp' });
    assert.equal(audioOnly.status, 422);
    assert.match((await errorOf(audioOnly)).message, /no video/);

    const unknown = await post(OFFER, { ...auth, 'Content-Type': 'application/sdp' }, 'nobody/nothing');
    assert.equal(unknown.status, 404);
    assert.equal(server.running.bus.kind, 'memory');
  });

  it('201 with the answer, Location and ETag; 409 for a second session on the channel; DELETE ends it; the grant opens one session only', async () => {
    const first = await server.grant();
    const publication = await publishWithLibwebrtc(server.whipUrl(), first, { width: 320, height: 180 });
    try {
      assert.equal(publication.status, 201, publication.body);
      assert.match(publication.body, /^v=0\r\n/);
      assert.match(publication.body, /\r\nb=AS:\d+\r\n/);
      assert.match(publication.location ?? '', /^\/api\/v1\/whip\/sessions\/[0-9A-Z]{26}$/);
      assert.equal(publication.etag, `"${publication.location!.split('/').at(-1)}"`);

      const second = await server.grant();
      const conflict = await post(OFFER, { 'Content-Type': 'application/sdp', Authorization: `Bearer ${second}` });
      assert.equal(conflict.status, 409, await conflict.clone().text());
      assert.match((await errorOf(conflict)).message, /already live/);

      const patch = await fetch(`${server.url}${publication.location}`, { method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' }, body: 'a=end-of-candidates\r\n' });
      assert.equal(patch.status, 405);
      assert.equal(patch.headers.get('allow'), 'DELETE, OPTIONS');

      const ended = await fetch(`${server.url}${publication.location}`, { method: 'DELETE' });
      assert.equal(ended.status, 200);
      assert.equal((await fetch(`${server.url}${publication.location}`, { method: 'DELETE' })).status, 404, 'ended already');

      const again = await post(OFFER, { 'Content-Type': 'application/sdp', Authorization: `Bearer ${first}` });
      assert.equal(again.status, 403);
      assert.match((await errorOf(again)).message, /already opened a session/);
      // The refused second grant was never spent: it still opens a session.
      const retry = await publishWithLibwebrtc(server.whipUrl(), second, { width: 320, height: 180 });
      assert.equal(retry.status, 201, retry.body);
      assert.equal((await fetch(`${server.url}${retry.location}`, { method: 'DELETE' })).status, 200);
      retry.close();
    } finally {
      publication.close();
    }
  });

  it('answers a cross-origin preflight for the endpoint and the session, and 404 for a session that does not exist', async () => {
    const preflight = await fetch(server.whipUrl(), { method: 'OPTIONS', headers: { Origin: 'https://publisher.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(preflight.headers.get('access-control-expose-headers') ?? '', /Location/);
    assert.equal((await fetch(`${server.url}/api/v1/whip/sessions/01ARZ3NDEKTSV4RRFFQ69G5FAV`, { method: 'DELETE' })).status, 404);
    assert.equal((await fetch(`${server.url}/api/v1/whip/sessions/not-an-id`, { method: 'DELETE' })).status, 404);
  });
});

describe('WHIP routes: too many offers', () => {
  let server: WhipTestServer;
  before(async () => {
    server = await startWhipTestServer({ env: { WHIP_OFFERS_PER_MINUTE: '3' } });
  });
  after(async () => {
    await server.close();
  });

  it('429 with Retry-After past the per-address offer rate, before anything else is looked at', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) statuses.push((await fetch(server.whipUrl(), { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: OFFER })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const limited = await fetch(server.whipUrl(), { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: OFFER });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await errorOf(limited)).code, 'rate_limited');
    await eventually(() => server.collaborators.sinks.size === 0, 'no session was opened');
  });
});

describe('WHIP routes: a channel\'s own origin limits, read from the bus by whichever replica answers (two replicas on NATS)', () => {
  let nats: NatsServerHandle;
  let first: WhipTestServer;
  let second: WhipTestServer;
  const LIMITED = 'acme/limited';
  before(async () => {
    nats = await startNatsServer();
    first = await startWhipTestServer({ natsUrl: nats.url });
    second = await startWhipTestServer({ natsUrl: nats.url });
  });
  after(async () => {
    await second?.close();
    await first?.close();
    await nats?.stop();
  });
  const setLimits = async (server: WhipTestServer, origin_limits: unknown) => {
    const response = await server.request(`/api/v1/channels/${LIMITED}`, { method: 'PUT', admin: true, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ title: 'Limited', origin_limits, providers: {} }) });
    assert.ok(response.ok, await response.text());
  };
  /** The answer's `b=AS` summed over its media sections (video and audio share the limit). */
  const bitrateCeilingOf = (answer: string) => [...answer.matchAll(/\r\nb=AS:(\d+)\r\n/g)].reduce((sum, match) => sum + Number(match[1]), 0);

  it('answers a limited channel\'s offer with its lower b=AS on the other replica, and a changed limit at the next offer', async () => {
    await setLimits(first, { max_bitrate_kbps: 600 });
    const limited = await publishWithLibwebrtc(second.whipUrl(LIMITED), await first.grant({ channel: LIMITED }), { width: 320, height: 180 });
    try {
      assert.equal(limited.status, 201, limited.body);
      assert.equal(bitrateCeilingOf(limited.body), 600);
      assert.equal((await fetch(`${first.url}${limited.location}`, { method: 'DELETE' })).status, 200);
    } finally {
      limited.close();
    }

    await setLimits(second, { max_bitrate_kbps: 300 });
    const lowered = await publishWithLibwebrtc(first.whipUrl(LIMITED), await second.grant({ channel: LIMITED }), { width: 320, height: 180 });
    try {
      assert.equal(lowered.status, 201, lowered.body);
      assert.equal(bitrateCeilingOf(lowered.body), 300, 'the limit written on the other replica, not one remembered');
      assert.equal((await fetch(`${second.url}${lowered.location}`, { method: 'DELETE' })).status, 200);
    } finally {
      lowered.close();
    }

    const unlimited = await publishWithLibwebrtc(first.whipUrl(), await first.grant(), { width: 320, height: 180 });
    try {
      assert.equal(unlimited.status, 201, unlimited.body);
      assert.equal(bitrateCeilingOf(unlimited.body), 8000, 'a channel without limits: the server\'s ORIGIN_MAX_BITRATE_KBPS');
      assert.equal((await fetch(`${first.url}${unlimited.location}`, { method: 'DELETE' })).status, 200);
    } finally {
      unlimited.close();
    }
  });

  it('keeps a publisher that honours the lowest channel limit (100 kbps, audio and video) past the 5 s bitrate window', async () => {
    await setLimits(first, { max_bitrate_kbps: 100 });
    const publication = await publishWithLibwebrtc(second.whipUrl(LIMITED), await second.grant({ channel: LIMITED }), { width: 320, height: 180 });
    try {
      assert.equal(publication.status, 201, publication.body);
      assert.equal(bitrateCeilingOf(publication.body), 100);
      const sessionId = publication.location!.split('/').at(-1)!;
      const sessions = await OriginSessions.open(first.running.bus);
      await eventually(async () => {
        const record = await sessions.findById(sessionId);
        assert.ok(record, 'the session record');
        assert.notEqual(record.state, 'ended', `ended early: ${record.ended_reason ?? ''}`);
        return Date.now() - Date.parse(record.created_at) > 8000 && record.state === 'live';
      }, 'the session live past its bitrate window', 30_000, { intervalMs: 250 });
      assert.equal((await fetch(`${first.url}${publication.location}`, { method: 'DELETE' })).status, 200);
    } finally {
      publication.close();
    }
  });

  it('ends a session whose picture is larger than the channel\'s max_short_side_px (limit), though the server\'s allows it', async () => {
    await setLimits(second, { max_short_side_px: 144 });
    const publication = await publishWithLibwebrtc(first.whipUrl(LIMITED), await first.grant({ channel: LIMITED }), { width: 320, height: 180 });
    try {
      assert.equal(publication.status, 201, publication.body);
      const sessionId = publication.location!.split('/').at(-1)!;
      const sessions = await OriginSessions.open(second.running.bus);
      const ended = await eventually(async () => {
        const record = await sessions.findById(sessionId);
        return record?.state === 'ended' ? record : undefined;
      }, 'the session ended for its picture size', 20_000, { intervalMs: 200 });
      assert.equal(ended.ended_reason, 'limit');
    } finally {
      publication.close();
      await setLimits(first, null);
    }
  });
});
