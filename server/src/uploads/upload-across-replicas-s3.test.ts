import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { mediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { eventually } from '../../../test/support/eventually.js';
import { startNatsServer, type NatsServerHandle } from '../../../test/support/nats-server.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { TEST_ADMIN_TOKEN, TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { uploadResumable } from '../../../test/support/tus-upload.js';
import { AUDIT_ACTIONS, auditRecordSchema } from '../audit/index.js';
import { STREAMS, decodeJson } from '../bus/index.js';
import { openStorage, type Storage } from '../storage/index.js';

/**
 * Two whole servers (the composition root, in this process) on one nats-server and one
 * S3-compatible server (s3rver), configured as a fleet is (`STORAGE_URL`): an upload started on
 * A and resumed on B is stored once in the quarantine bucket, byte-identical, moderated once by
 * whichever replica's worker took the job, and previewed by a moderator from either replica.
 */
describe('an upload across two replicas on S3 storage', () => {
  let nats: NatsServerHandle;
  let s3: S3ServerHandle;
  let storage: Storage;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    nats = await startNatsServer();
    s3 = await startS3Server();
    storage = await openStorage(s3.storage);
    a = await startTestServer({ natsUrl: nats.url, env: { ...s3.env } });
    b = await startTestServer({ natsUrl: nats.url, env: { ...s3.env }, withChannel: false });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await storage?.close();
    await s3?.stop();
    await nats?.stop();
  });

  it('started on A, resumed on B: byte-identical in the bucket, moderated once, previewed from A', async () => {
    const video = await readFile((await mediaFixtures()).validFaststartMp4);
    const granted = await a.request('/api/v1/uploads/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: TEST_CHANNEL, filename: 'clip.mp4', size: video.length, type: 'video/mp4', source: 'file' }),
    });
    assert.equal(granted.status, 201, await granted.clone().text());
    const grant = (await granted.json()) as { upload_id: string; upload_url: string; token: string };

    const half = Math.floor(video.length / 2);
    const started = await uploadResumable(grant, video, { chunkSize: Math.ceil(half / 2), stopAfterBytes: half });
    assert.equal(started.finished, false);
    const path = new URL(started.url, a.url).pathname;
    const resumed = await uploadResumable({ ...grant, upload_url: `${b.url}/uploads` }, video, { uploadUrl: `${b.url}${path}` });
    assert.equal(resumed.finished, true);

    const read = await storage.quarantine.get(grant.upload_id);
    assert.ok(read, 'the bytes are an object in the quarantine bucket');
    const chunks: Buffer[] = [];
    for await (const chunk of read.body) chunks.push(chunk as Buffer);
    const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    assert.equal(sha256(Buffer.concat(chunks)), sha256(video));

    const record = await eventually(async () => {
      const response = await b.request(`/api/v1/uploads/${grant.upload_id}`, { admin: true });
      const body = (await response.json()) as { status: string; checks: Array<{ name: string; result: string }> };
      return body.status !== 'uploading' && body.status !== 'checking' ? body : undefined;
    }, 'the upload moderated', 60_000);
    assert.equal(record.status, 'in_review', JSON.stringify(record.checks));

    // Once: each check audited once, whichever replica's worker ran them.
    const audit = (await a.running.bus.readLatest(STREAMS.audit.name, { limit: 500 }))
      .map((message) => decodeJson(message.data, auditRecordSchema))
      .filter((entry) => entry.target === grant.upload_id && entry.action === AUDIT_ACTIONS.uploadCheck);
    assert.deepEqual(audit.map((entry) => (entry.details as { check: string }).check).sort(), record.checks.map((check) => check.name).sort());

    const preview = await fetch(`${a.url}/api/v1/moderation/${grant.upload_id}/media`, { headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, Range: 'bytes=100-199' } });
    assert.equal(preview.status, 206);
    assert.equal(preview.headers.get('content-range'), `bytes 100-199/${video.length}`);
    assert.deepEqual(Buffer.from(await preview.arrayBuffer()), video.subarray(100, 200));
  });
});
