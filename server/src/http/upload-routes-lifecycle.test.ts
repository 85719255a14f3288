import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { uploadResumable, type ResumableUploadOptions } from '../../../test/support/tus-upload.js';
import { ulid } from 'ulid';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { TEST_CHANNEL, TEST_UPLOAD_TOKEN_SECRET, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { AUDIT_ACTIONS, type AuditRecord } from '../audit/index.js';
import { createLogger } from '../observability/index.js';
import { INCOMPLETE_UPLOAD_EXPIRED, UploadGrants, UploadStore, createTusEndpoint } from '../uploads/index.js';

const json = { 'Content-Type': 'application/json' };
const TUS = { 'Tus-Resumable': '1.0.0' };
const CHANNEL_MAX_PENDING = 2;

interface Grant {
  upload_url: string;
  token: string;
  expires_at: string;
  max_size: number;
  upload_id: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** In 128 KiB PATCHes, so `stopAfterBytes` can cut an upload short. */
const tusUpload = (grant: Grant, data: Buffer, options: ResumableUploadOptions = {}) => uploadResumable(grant, data, { chunkSize: 128 * 1024, ...options });

describeEachBus('upload grants: audit, per-channel cap, re-grant to resume', (bus) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      natsUrl: bus.natsUrl(),
      // Completed uploads stay `checking` (and hold their place in the cap): an API-only replica, no moderation worker moves them on.
      env: { UPLOAD_RATE_LIMIT_PER_MINUTE: '1000', UPLOAD_CHANNEL_MAX_PENDING: String(CHANNEL_MAX_PENDING), WORKERS: 'none' },
    });
  });
  after(() => server.close());

  const requestToken = (body: Record<string, unknown>) =>
    server.request('/api/v1/uploads/token', { method: 'POST', headers: json, body: JSON.stringify(body) });
  const grantFor = async (size: number, channel = TEST_CHANNEL): Promise<Grant> => {
    const response = await requestToken({ channel, filename: 'clip.mp4', size, type: 'video/mp4', source: 'file' });
    assert.equal(response.status, 201, await response.clone().text());
    return (await response.json()) as Grant;
  };
  const openChannel = async (channel: string) => {
    const response = await server.request(`/api/v1/channels/${channel}`, { method: 'PUT', admin: true, headers: json, body: JSON.stringify({ providers: {}, uploads: 'open' }) });
    assert.ok(response.ok, await response.text());
  };
  const statusOf = async (uploadId: string) => ((await (await server.request(`/api/v1/uploads/${uploadId}`)).json()) as { status: string }).status;
  const auditOf = async (uploadId: string): Promise<AuditRecord[]> => {
    const response = await server.request('/api/v1/audit?limit=200', { admin: true });
    assert.equal(response.status, 200);
    const { records } = (await response.json()) as { records: AuditRecord[] };
    return records.filter((record) => record.target === uploadId).reverse();
  };
  /** tus creation-with-upload of the first `sent` of `size` bytes. */
  const createPartial = async (grant: Grant, size: number, sent: number) => {
    const response = await fetch(grant.upload_url, {
      method: 'POST',
      headers: { ...TUS, Authorization: `Bearer ${grant.token}`, 'Upload-Length': String(size), 'Content-Type': 'application/offset+octet-stream' },
      body: randomBytes(sent),
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('upload-offset'), String(sent));
  };
  const cancel = (grant: Grant) => fetch(`${grant.upload_url}/${grant.upload_id}`, { method: 'DELETE', headers: { ...TUS, Authorization: `Bearer ${grant.token}` } });

  it('audits a grant and a cancellation with a client actor that is no address or token', async () => {
    const grant = await grantFor(100);
    await createPartial(grant, 100, 40);
    assert.equal((await cancel(grant)).status, 204);
    assert.equal(await statusOf(grant.upload_id), 'deleted');

    const [granted, cancelled, ...rest] = await auditOf(grant.upload_id);
    assert.deepEqual(rest, []);
    assert.ok(granted && cancelled);
    assert.equal(granted.action, AUDIT_ACTIONS.uploadGranted);
    assert.match(granted.actor, /^client:[0-9a-f]{16}$/);
    assert.equal(granted.reason, null);
    assert.deepEqual({ ...granted.details, expires_at: undefined }, { channel: TEST_CHANNEL, size: 100, type: 'video/mp4', source: 'file', resumed: false, expires_at: undefined });
    assert.equal(cancelled.action, AUDIT_ACTIONS.uploadCancelled);
    assert.equal(cancelled.actor, granted.actor, 'the same client');
    assert.equal(cancelled.reason, 'cancelled by the uploader');
    assert.deepEqual(cancelled.details, { bytes_received: 40, size: 100 });
    for (const record of [granted, cancelled]) {
      assert.ok(Number.isFinite(Date.parse(record.at)), record.at);
      assert.doesNotMatch(JSON.stringify(record), /127\.0\.0\.1|::1|eyJ/, 'no address and no token in the audit log');
    }
  });

  it('re-grants an upload still uploading so it resumes after its token expired, with identical bytes', async () => {
    const data = randomBytes(600 * 1024 + 3);
    const grant = await grantFor(data.length);
    const first = await tusUpload(grant, data, { stopAfterBytes: 256 * 1024 });
    assert.equal(first.finished, false);

    // The grant's token, 20 minutes on: expired.
    const expired = await new UploadGrants({ secret: TEST_UPLOAD_TOKEN_SECRET, now: () => Date.now() - 20 * 60 * 1000 }).sign({
      uploadId: grant.upload_id,
      channel: TEST_CHANNEL,
      maxSize: data.length,
      type: 'video/mp4',
      source: 'file',
    });
    assert.equal((await fetch(first.url, { method: 'HEAD', headers: { ...TUS, Authorization: `Bearer ${expired.token}` } })).status, 401);

    assert.equal((await requestToken({ upload_id: grant.upload_id, channel: TEST_CHANNEL })).status, 400, 'a re-grant needs the previous grant');
    const forged = await new UploadGrants({ secret: 'another-secret-another-secret-0123456789' }).sign({ uploadId: grant.upload_id, channel: TEST_CHANNEL, maxSize: data.length, type: 'video/mp4', source: 'file' });
    assert.equal((await requestToken({ upload_id: grant.upload_id, channel: TEST_CHANNEL, token: forged.token })).status, 403, 'a forged grant proves nothing');
    const other = await new UploadGrants({ secret: TEST_UPLOAD_TOKEN_SECRET }).sign({ uploadId: ulid(), channel: TEST_CHANNEL, maxSize: data.length, type: 'video/mp4', source: 'file' });
    assert.equal((await requestToken({ upload_id: grant.upload_id, channel: TEST_CHANNEL, token: other.token })).status, 403, "another upload's grant");
    const renewed = await requestToken({ upload_id: grant.upload_id, channel: TEST_CHANNEL, token: expired.token });
    assert.equal(renewed.status, 200, await renewed.clone().text());
    const fresh = (await renewed.json()) as Grant;
    assert.equal(fresh.upload_id, grant.upload_id);
    assert.equal(fresh.max_size, data.length);
    assert.equal(fresh.upload_url, grant.upload_url);
    const claims = await new UploadGrants({ secret: TEST_UPLOAD_TOKEN_SECRET }).verify(fresh.token);
    assert.deepEqual(
      { uploadId: claims.uploadId, channel: claims.channel, maxSize: claims.maxSize, type: claims.type, source: claims.source },
      { uploadId: grant.upload_id, channel: TEST_CHANNEL, maxSize: data.length, type: 'video/mp4', source: 'file' },
    );

    const second = await tusUpload(fresh, data, { uploadUrl: first.url });
    assert.ok(second.finished);
    assert.equal(sha256(await readFile(join(server.quarantineDir, grant.upload_id))), sha256(data));
    assert.equal(await statusOf(grant.upload_id), 'checking');

    const again = await requestToken({ upload_id: grant.upload_id, channel: TEST_CHANNEL, token: fresh.token });
    assert.equal(again.status, 409, 'no longer uploading');
    assert.match(((await again.json()) as { error: { message: string } }).error.message, /checking/);
    assert.equal((await requestToken({ upload_id: ulid(), channel: TEST_CHANNEL, token: fresh.token })).status, 403, 'a grant for another upload');
    assert.equal((await requestToken({ upload_id: grant.upload_id, channel: 'other/channel', token: fresh.token })).status, 403, "another channel's");
    assert.equal((await requestToken({ upload_id: 'not-an-id', channel: TEST_CHANNEL, token: fresh.token })).status, 400);
    assert.equal((await requestToken({ upload_id: grant.upload_id, channel: TEST_CHANNEL, token: fresh.token, size: 1e9 })).status, 400, 'the scope cannot be widened');

    const grants = (await auditOf(grant.upload_id)).filter((record) => record.action === AUDIT_ACTIONS.uploadGranted);
    assert.deepEqual(grants.map((record) => [record.reason, record.details?.['resumed']]), [[null, false], ['resume', true]]);
  });

  it('refuses a grant with 429 and Retry-After once the channel has its cap of uploads pending, and frees a place on cancel', async () => {
    const channel = 'acme/capped';
    await openChannel(channel);
    const held = [await grantFor(100, channel), await grantFor(100, channel)];
    const refused = await requestToken({ channel, filename: 'clip.mp4', size: 100, type: 'video/mp4', source: 'file' });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.match(refused.headers.get('content-type') ?? '', /application\/json/);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'rate_limited');
    assert.match(error.message, new RegExp(`has ${CHANNEL_MAX_PENDING} uploads on their way( in ${channel})?;`), 'one client holds every place: its share and the channel are both full');
    assert.equal((await requestToken({ upload_id: held[0]!.upload_id, channel, token: held[0]!.token })).status, 200, 'a re-grant takes no new place');

    await createPartial(held[0]!, 100, 10);
    assert.equal((await cancel(held[0]!)).status, 204);
    await grantFor(100, channel);
  });

  it('admits exactly the cap when grants for one channel race', async () => {
    const channel = 'acme/rush';
    await openChannel(channel);
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => requestToken({ channel, filename: 'clip.mp4', size: 100, type: 'video/mp4', source: 'file' })),
    );
    assert.deepEqual(responses.map((response) => response.status).sort(), [201, 201, 429, 429, 429, 429]);
  });

  it('expires an incomplete upload, marks it deleted and audits the quarantine deletion', async () => {
    const grant = await grantFor(100);
    await createPartial(grant, 100, 30);
    const { bus: serverBus, config } = server.running;
    // A second endpoint on the same quarantine and records, its clock past the incomplete-upload TTL.
    const later = await createTusEndpoint({
      quarantine: { kind: 'filesystem', directory: server.quarantineDir },
      incompleteTtlMs: config.uploadIncompleteTtlMs,
      grants: new UploadGrants({ secret: TEST_UPLOAD_TOKEN_SECRET }),
      uploads: await UploadStore.open(serverBus),
      bus: serverBus,
      logger: createLogger({ level: 'silent' }),
      now: () => Date.now() + config.uploadIncompleteTtlMs + 1000,
    });
    assert.ok((await later.cleanUpExpiredUploads()) >= 1);
    assert.equal(await statusOf(grant.upload_id), 'deleted');
    const deleted = (await auditOf(grant.upload_id)).filter((record) => record.action === AUDIT_ACTIONS.quarantineDeleted);
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0]!.actor, 'lifecycle');
    assert.equal(deleted[0]!.reason, INCOMPLETE_UPLOAD_EXPIRED);
    assert.equal((await requestToken({ upload_id: grant.upload_id, channel: TEST_CHANNEL, token: grant.token })).status, 409, 'an expired upload cannot be resumed');
  });
});
