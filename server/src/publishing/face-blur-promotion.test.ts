/**
 * "Approve with faces blurred" through the real server's promotion worker: an approved upload
 * whose record asks for the blur is published with the face blurred in every rendition; one
 * that asks for it without face data is rejected, never published unblurred. Records and
 * bytes are written straight into the quarantine, as the moderation worker and the decision
 * route would leave them.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ulid } from 'ulid';
import { detailIn, faceCheckDetails, facePixelsAt, generateFaceClip, grayFrameAt, inset } from '../../../test/fixtures/face-blur-fixtures.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { AUDIT_ACTIONS, auditRecordSchema, type AuditRecord } from '../audit/index.js';
import { SUBJECTS, decodeJson, type Subscription } from '../bus/index.js';
import { UploadStore, enqueuePromotionJob, type UploadRecord } from '../uploads/index.js';

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('promotion with faces blurred', () => {
  let server: TestServer;
  let uploads: UploadStore;
  let workDir: string;
  let clip: string;
  let subscription: Subscription;
  const audits: AuditRecord[] = [];
  const waiters: Array<{ match: (entry: AuditRecord) => boolean; resolve: (entry: AuditRecord) => void }> = [];

  /** The first audit entry (already seen or still to come) that `match`es. */
  const auditEntry = (match: (entry: AuditRecord) => boolean): Promise<AuditRecord> => {
    const seen = audits.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
  };

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'live-upload-face-promotion-'));
    clip = join(workDir, 'faces.mp4');
    await generateFaceClip(clip);
    server = await startTestServer();
    uploads = await UploadStore.open(server.running.bus);
    subscription = server.running.bus.subscribe(SUBJECTS.auditAll, (_subject, data) => {
      const entry = decodeJson(data, auditRecordSchema);
      audits.push(entry);
      for (const waiter of [...waiters]) {
        if (!waiter.match(entry)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    });
  });
  after(async () => {
    subscription.unsubscribe();
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  });

  /** An upload approved with faces blurred, in the quarantine, and its promotion job. */
  async function approvedWithBlur(checks: UploadRecord['checks'], source: UploadRecord['source'] = 'file'): Promise<UploadRecord> {
    const record = uploadRecordFixture({
      upload_id: ulid(),
      source,
      channel: TEST_CHANNEL,
      status: 'approved',
      size: (await stat(clip)).size,
      checks,
      publish_options: { blur_faces: true },
    });
    await uploads.create(record);
    await copyFile(clip, join(server.quarantineDir, record.upload_id));
    await enqueuePromotionJob(server.running.bus, { upload_id: record.upload_id, channel: TEST_CHANNEL, approved_by: 'moderator:test', approved_at: new Date().toISOString() });
    return record;
  }

  it('publishes the MP4, HLS and poster with the face blurred, and audits that it did', async () => {
    const record = await approvedWithBlur([{ name: 'faces', result: 'review', details: faceCheckDetails() }]);
    const published = await auditEntry((entry) => entry.target === record.upload_id && entry.action === AUDIT_ACTIONS.uploadPublished);
    assert.equal(published.details?.['faces_blurred'], true);
    assert.equal((await uploads.get(record.upload_id))?.status, 'published');

    const dir = join(server.mediaDir, record.upload_id);
    const mp4 = await grayFrameAt(join(dir, 'video.mp4'), 2);
    const segment = await grayFrameAt(join(dir, 'hls', 'segment-000.ts'), 3);
    const poster = await grayFrameAt(join(dir, 'poster.jpg'), 0);
    for (const [name, frame, t] of [['mp4', mp4, 2], ['hls', segment, 3], ['poster', poster, 0.6]] as const) {
      const detail = detailIn(frame, inset(facePixelsAt(t), 8));
      assert.ok(detail < 3, `${name}: the face is blurred (detail ${detail.toFixed(1)}; about 35 unblurred)`);
    }
  });

  it('rejects an upload approved with faces blurred when the faces check left no face data, audited, nothing published', async () => {
    const record = await approvedWithBlur([{ name: 'faces', result: 'error', detail: 'the model did not load' }]);
    const rejected = await auditEntry((entry) => entry.target === record.upload_id && entry.action === AUDIT_ACTIONS.uploadRejected);
    assert.equal(rejected.reason, 'faces blur impossible');
    assert.match(String(rejected.details?.['error']), /faces check result is error: the model did not load/);
    assert.equal((await uploads.get(record.upload_id))?.status, 'rejected');
    assert.equal(await exists(join(server.mediaDir, record.upload_id)), false, 'nothing published');
    assert.equal(await exists(join(server.quarantineDir, record.upload_id)), true, 'the original stays in the quarantine until its retention ends');
    assert.equal((await server.request(`/media/${record.upload_id}/video.mp4`)).status, 404);
  });

  it("rejects a publisher's broadcast upload approved with faces blurred: its replay ladder is made unblurred, so it is not made", async () => {
    const record = await approvedWithBlur([{ name: 'faces', result: 'review', details: faceCheckDetails() }], 'broadcast');
    const rejected = await auditEntry((entry) => entry.target === record.upload_id && entry.action === AUDIT_ACTIONS.uploadRejected);
    assert.equal(rejected.reason, 'faces blur impossible');
    const after = await uploads.get(record.upload_id);
    assert.equal(after?.status, 'rejected');
    assert.equal(after?.replay, undefined, 'no replay queued');
  });
});
