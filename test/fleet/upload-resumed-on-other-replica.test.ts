/**
 * Issue 20: an upload started on replica A and resumed on replica B finishes byte-identical and
 * is moderated once. Two replicas of the real entry point on different nodes of a three-node NATS
 * cluster (every stream and bucket in three copies), sharing one S3-compatible store (s3rver,
 * STORAGE_URL) for the quarantine, the media and the tus data; no directory is shared.
 *
 * The client sends the first half through A (tus creation and PATCHes), goes away, and comes
 * back on B: B's HEAD answers the offset A acknowledged, and B's PATCH takes the rest. Moderation
 * (policy `review`) runs each check once and puts the upload in review once; the quarantined
 * bytes a moderator fetches from B are the file's bytes; approved on B, it is published once.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { mediaFixtures } from '../fixtures/media-fixtures.js';
import { eventually } from '../support/eventually.js';
import type { MainProcess } from '../support/main-process.js';
import { startNatsCluster, type NatsClusterHandle } from '../support/nats-cluster.js';
import { startS3Server, type S3ServerHandle } from '../support/s3-server.js';
import { uploadResumable } from '../support/tus-upload.js';
import { adminFetch, startReplicas, stopReplica } from './fleet.js';

const CHANNEL = 'acme/fleet-uploads';
const TUS = { 'Tus-Resumable': '1.0.0' } as const;
const CHUNK_BYTES = 512 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface UploadStatus {
  readonly status: string;
  readonly media?: { readonly mp4: string };
}

describe('a fleet resumes an upload started on one replica on the other, and moderates it once', () => {
  let cluster: NatsClusterHandle;
  let s3: S3ServerHandle;
  let a: MainProcess | undefined;
  let b: MainProcess | undefined;

  before(async () => {
    s3 = await startS3Server();
    cluster = await startNatsCluster();
    ({ a, b } = await startReplicas(cluster, { ...s3.env, MODERATION_POLICY: 'review' }));
    const channel = await adminFetch(a, `/api/v1/channels/${CHANNEL}`, { method: 'PUT', body: JSON.stringify({ providers: {}, uploads: 'open' }) });
    assert.equal(channel.status, 201, await channel.text());
  });
  after(async () => {
    await Promise.all([stopReplica(a), stopReplica(b)]);
    await cluster?.stop();
    await s3?.stop();
  });

  it('the first half through A, HEAD and the rest through B: byte-identical, checked once, published once', async () => {
    assert.ok(a && b);
    const data = await readFile((await mediaFixtures()).validMp4);
    const grantResponse = await adminFetch(a, '/api/v1/uploads/token', {
      method: 'POST',
      body: JSON.stringify({ channel: CHANNEL, filename: 'fleet.mp4', size: data.length, type: 'video/mp4', source: 'file', title: 'Resumed on B' }),
    });
    assert.equal(grantResponse.status, 201, await grantResponse.clone().text());
    const grant = (await grantResponse.json()) as { upload_url: string; token: string; upload_id: string };
    const onA = new URL(grant.upload_url, a.url);
    onA.protocol = 'http:';
    onA.host = new URL(a.url).host;

    const half = Math.floor(data.length / 2);
    const started = await uploadResumable({ ...grant, upload_url: onA.href }, data, { chunkSize: CHUNK_BYTES, stopAfterBytes: half });
    assert.equal(started.finished, false);
    const onB = new URL(started.url);
    onB.host = new URL(b.url).host;
    assert.notEqual(new URL(started.url).host, onB.host, 'the upload moves to the other replica');

    const auth = { Authorization: `Bearer ${grant.token}`, ...TUS };
    const head = await fetch(onB, { method: 'HEAD', headers: auth });
    assert.equal(head.status, 200);
    const offset = Number(head.headers.get('upload-offset'));
    assert.ok(offset >= half && offset < data.length, `B knows the offset A acknowledged (${offset} of ${data.length})`);
    assert.equal(Number(head.headers.get('upload-length')), data.length);
    const patch = await fetch(onB, {
      method: 'PATCH',
      headers: { ...auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      body: data.subarray(offset),
    });
    assert.equal(patch.status, 204, await patch.text());
    assert.equal(Number(patch.headers.get('upload-offset')), data.length);

    const uploadId = grant.upload_id;
    const statusOn = async (replica: MainProcess): Promise<UploadStatus> => (await (await adminFetch(replica, `/api/v1/uploads/${uploadId}`)).json()) as UploadStatus;
    await eventually(
      async () => {
        const record = await statusOn(b!);
        assert.notEqual(record.status, 'rejected', 'the resumed file passes the checks');
        return record.status === 'in_review' ? record : undefined;
      },
      'the upload to wait for review',
      30_000,
      { intervalMs: 200 },
    );

    const quarantined = await adminFetch(b, `/api/v1/moderation/${uploadId}/media`);
    assert.equal(quarantined.status, 200);
    assert.equal(sha256(new Uint8Array(await quarantined.arrayBuffer())), sha256(data), 'the quarantined file is the file, byte for byte');

    const decision = await adminFetch(b, `/api/v1/moderation/${uploadId}/decision`, { method: 'POST', body: JSON.stringify({ decision: 'approve' }) });
    assert.equal(decision.status, 200, await decision.text());
    await eventually(async () => (await statusOn(a!)).status === 'published', 'the approved upload to be published', 45_000, { intervalMs: 250 });

    // The record turns published before its audit entry is appended: wait for the entry, not the status.
    type AuditRecord = { action: string; target: string; details?: { check?: string } };
    const ours = await eventually(
      async () => {
        const audit = (await (await adminFetch(b!, '/api/v1/audit?limit=200')).json()) as { records: AuditRecord[] };
        const records = audit.records.filter((record) => record.target === uploadId);
        return records.some((record) => record.action === 'upload.published') ? records : undefined;
      },
      'the upload.published audit entry',
      10_000,
      { intervalMs: 100 },
    );
    const checks = ours.filter((record) => record.action === 'upload.check').map((record) => record.details?.check ?? '?');
    assert.ok(checks.length > 0, 'the moderation checks ran');
    assert.equal(new Set(checks).size, checks.length, `each check once: ${checks.join(',')}`);
    for (const action of ['upload.in_review', 'upload.approved', 'upload.published']) {
      assert.equal(ours.filter((record) => record.action === action).length, 1, `${action} once: ${ours.map((record) => record.action).join(',')}`);
    }
  });
});
