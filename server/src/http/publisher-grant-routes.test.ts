import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ulid } from 'ulid';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, TEST_UPLOAD_TOKEN_SECRET, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { AUDIT_ACTIONS, type AuditRecord } from '../audit/index.js';
import { PublisherGrants } from '../publishers/index.js';
import { UploadGrants } from '../uploads/index.js';

const json = { 'Content-Type': 'application/json' };
/** Viewer uploads are off here; replays are kept (the default vod policy). */
const CLOSED_CHANNEL = 'acme/closed-doors';
/** Keeps no replays. */
const NO_VOD_CHANNEL = 'acme/no-replays';
const VOD_UPLOAD_MAX_BYTES = 3_000_000;
const UPLOAD_MAX_BYTES = 1_000_000;

interface GrantBody {
  token: string;
  grant_id: string;
  channel: string;
  capabilities: string[];
  expires_at: string;
}

describeEachBus('publisher grants and replay upload grants', (bus) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      // An API-only replica: grants only, nothing moves uploads on.
      env: { WORKERS: 'none', UPLOAD_RATE_LIMIT_PER_MINUTE: '1000', UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES), VOD_UPLOAD_MAX_BYTES: String(VOD_UPLOAD_MAX_BYTES) },
    });
    for (const [channel, body] of [
      [CLOSED_CHANNEL, { providers: {}, uploads: 'off' }],
      [NO_VOD_CHANNEL, { providers: {}, uploads: 'open', vod: 'off' }],
    ] as const) {
      const response = await server.request(`/api/v1/channels/${channel}`, { method: 'PUT', admin: true, headers: json, body: JSON.stringify(body) });
      assert.ok(response.ok, await response.text());
    }
  });
  after(() => server.close());

  const askGrant = (channel: string, body?: unknown, admin = true) =>
    server.request(`/api/v1/channels/${channel}/publisher-grants`, { method: 'POST', admin, ...(body === undefined ? {} : { headers: json, body: JSON.stringify(body) }) });
  const grantFor = async (channel: string, body?: unknown): Promise<GrantBody> => {
    const response = await askGrant(channel, body);
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal(response.headers.get('cache-control'), 'no-store');
    return (await response.json()) as GrantBody;
  };
  const recording = (channel: string, size = 2_000_000) => ({ channel, filename: 'broadcast.mp4', size, type: 'video/mp4', source: 'broadcast', title: 'Tuesday show' });
  const askUpload = (body: unknown, authorization?: string) =>
    server.request('/api/v1/uploads/token', { method: 'POST', headers: { ...json, ...(authorization ? { Authorization: authorization } : {}) }, body: JSON.stringify(body) });
  const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string } }).error;
  const auditFor = async (target: string): Promise<AuditRecord[]> => {
    const { records } = (await (await server.request('/api/v1/audit?limit=200', { admin: true })).json()) as { records: AuditRecord[] };
    return records.filter((record) => record.target === target);
  };

  it('gives an admin a short-lived grant for a channel, audited without the token; refuses anyone else, an unknown channel and a bad body', async () => {
    const grant = await grantFor(TEST_CHANNEL);
    assert.equal(grant.channel, TEST_CHANNEL);
    assert.deepEqual(grant.capabilities, ['replay-upload', 'go-live', 'audience']);
    const lifetimeMs = Date.parse(grant.expires_at) - Date.now();
    assert.ok(lifetimeMs > 14 * 60_000 && lifetimeMs <= 15 * 60_000, `15 minutes by default, got ${lifetimeMs} ms`);
    const short = await grantFor(TEST_CHANNEL, { capabilities: ['replay-upload'], ttl_s: 120 });
    assert.ok(Date.parse(short.expires_at) - Date.now() <= 120_000);

    const audited = (await auditFor(TEST_CHANNEL)).filter((record) => record.action === AUDIT_ACTIONS.publisherGranted);
    const entry = audited.find((record) => record.details?.['grant_id'] === grant.grant_id);
    assert.ok(entry, 'the grant is audited');
    assert.equal(entry.actor, 'admin');
    assert.ok(!JSON.stringify(audited).includes(grant.token), 'the audit trail never holds a token');

    assert.equal((await askGrant(TEST_CHANNEL, undefined, false)).status, 401);
    assert.equal((await server.request(`/api/v1/channels/${TEST_CHANNEL}/publisher-grants`, { method: 'POST', headers: { Authorization: `Bearer ${grant.token}` } })).status, 401, 'a grant cannot mint grants');
    assert.equal((await askGrant('acme/nobody-here')).status, 404);
    for (const body of [{ capabilities: ['everything'] }, { capabilities: [] }, { ttl_s: 5 }, { ttl_s: 24 * 3600 }, { extra: true }, []]) {
      const response = await askGrant(TEST_CHANNEL, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal((await errorOf(response)).code, 'invalid_body');
    }
  });

  it("grants a publisher's recording beyond the viewers' size limit, even with viewer uploads off, audited as the grant's holder", async () => {
    for (const channel of [TEST_CHANNEL, CLOSED_CHANNEL]) {
      const grant = await grantFor(channel);
      const response = await askUpload(recording(channel), `Bearer ${grant.token}`);
      assert.equal(response.status, 201, await response.clone().text());
      const issued = (await response.json()) as { upload_id: string; max_size: number; token: string };
      assert.equal(issued.max_size, 2_000_000);
      const status = (await (await server.request(`/api/v1/uploads/${issued.upload_id}`)).json()) as { status: string };
      assert.equal(status.status, 'uploading');
      const [granted] = (await auditFor(issued.upload_id)).filter((record) => record.action === AUDIT_ACTIONS.uploadGranted);
      assert.equal(granted?.actor, `publisher:${grant.grant_id}`);
      assert.equal(granted?.details?.['source'], 'broadcast');
    }
    // A page on another origin may send its grant: the preflight allows the Authorization header.
    const preflight = await server.request('/api/v1/uploads/token', {
      method: 'OPTIONS',
      headers: { Origin: 'https://host.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
    const byAdmin = await askUpload(recording(TEST_CHANNEL), `Bearer ${TEST_ADMIN_TOKEN}`);
    assert.equal(byAdmin.status, 201, 'the admin token may upload a recording too');

    const viewer = await askUpload({ ...recording(CLOSED_CHANNEL), source: 'file', size: 100 });
    assert.equal(viewer.status, 403, "a viewer still cannot upload where viewer uploads are off");
    const tooBigForViewers = await askUpload({ ...recording(TEST_CHANNEL), source: 'file' });
    assert.equal(tooBigForViewers.status, 413);
  });

  it('refuses a recording without a grant (401), with an expired one (401), and with a forged, altered, wrong-audience or other-channel one (403)', async () => {
    const body = recording(TEST_CHANNEL);
    const missing = await askUpload(body);
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.equal((await errorOf(missing)).code, 'unauthorized');

    const expired = await new PublisherGrants({ secret: TEST_UPLOAD_TOKEN_SECRET, now: () => Date.now() - 2 * 3600_000 }).sign({ channel: TEST_CHANNEL, capabilities: ['replay-upload'] });
    const expiredResponse = await askUpload(body, `Bearer ${expired.token}`);
    assert.equal(expiredResponse.status, 401);
    assert.match((await errorOf(expiredResponse)).message, /expired/);

    const otherChannel = await grantFor(CLOSED_CHANNEL);
    const forged = await new PublisherGrants({ secret: 'not-the-server-secret-0123456789abcdef' }).sign({ channel: TEST_CHANNEL, capabilities: ['replay-upload'] });
    const good = await grantFor(TEST_CHANNEL);
    const [header, payload, signature] = good.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const altered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: CLOSED_CHANNEL })).toString('base64url')}.${signature}`;
    const uploadGrant = await new UploadGrants({ secret: TEST_UPLOAD_TOKEN_SECRET }).sign({ uploadId: ulid(), channel: TEST_CHANNEL, maxSize: 2_000_000, type: 'video/mp4', source: 'broadcast' });
    for (const [what, token, channel] of [
      ['another channel', otherChannel.token, TEST_CHANNEL],
      ['forged', forged.token, TEST_CHANNEL],
      ['altered to another channel', altered, CLOSED_CHANNEL],
      ['an upload grant (another audience)', uploadGrant.token, TEST_CHANNEL],
      ['not a token', 'x'.repeat(40), TEST_CHANNEL],
    ] as const) {
      const response = await askUpload(recording(channel), `Bearer ${token}`);
      assert.equal(response.status, 403, what);
      const error = await errorOf(response);
      assert.equal(error.code, 'forbidden', what);
      assert.ok(!error.message.includes(token), 'the token is never echoed');
    }
    assert.equal((await askUpload(body, `Basic ${good.token}`)).status, 401, 'only a bearer token');
  });

  it("refuses a recording for a channel that keeps no replays (409), one past VOD_UPLOAD_MAX_BYTES (413), and a recording claiming a broadcast's provenance (400)", async () => {
    const noVod = await grantFor(NO_VOD_CHANNEL);
    const refused = await askUpload(recording(NO_VOD_CHANNEL), `Bearer ${noVod.token}`);
    assert.equal(refused.status, 409);
    assert.match((await errorOf(refused)).message, /vod policy is off/);

    const grant = await grantFor(TEST_CHANNEL);
    const tooBig = await askUpload(recording(TEST_CHANNEL, VOD_UPLOAD_MAX_BYTES + 1), `Bearer ${grant.token}`);
    assert.equal(tooBig.status, 413);
    const nowIso = new Date().toISOString();
    const withProvenance = await askUpload(
      { ...recording(TEST_CHANNEL), provenance: { canonical_id: `stream:acme:morning-show:${ulid()}`, from: nowIso, to: nowIso } },
      `Bearer ${grant.token}`,
    );
    assert.equal(withProvenance.status, 400);
  });

  it('resumes a recording with a fresh upload token where viewer uploads are off', async () => {
    const grant = await grantFor(CLOSED_CHANNEL);
    const issued = (await (await askUpload(recording(CLOSED_CHANNEL), `Bearer ${grant.token}`)).json()) as { upload_id: string; token: string; upload_url: string };
    // Its first bytes, so the grant's start window does not lapse.
    const created = await fetch(issued.upload_url, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${issued.token}`, 'Upload-Length': '2000000', 'Content-Type': 'application/offset+octet-stream' },
      body: new Uint8Array(1000),
    });
    assert.equal(created.status, 201);
    const renewed = await askUpload({ upload_id: issued.upload_id, channel: CLOSED_CHANNEL, token: issued.token });
    assert.equal(renewed.status, 200, await renewed.clone().text());
  });
});
