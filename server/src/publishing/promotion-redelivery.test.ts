import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { ulid } from 'ulid';
import { mediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { AUDIT_ACTIONS, AuditLog, auditRecordSchema } from '../audit/index.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, decodeJson, type Bus } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { QuarantinedUploads, UploadStore, enqueuePromotionJob, type UploadRecord } from '../uploads/index.js';
import { PromotionWorker, STAGING_DIR_NAME } from './promotion-worker.js';

describeEachBus('promotion worker stopped mid-job', (busUnderTest) => {
  let bus: Bus;
  let dir: string;

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'promotion-redelivery-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    dir = await mkdtemp(join(tmpdir(), 'live-upload-promotion-'));
  });
  after(async () => {
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves the job to be redelivered, and the next worker applies it once', async () => {
    const fixtures = await mediaFixtures();
    const quarantineDir = join(dir, 'quarantine');
    const mediaDir = join(dir, 'media');
    const uploads = await UploadStore.open(bus);
    const at = new Date().toISOString();
    const record: UploadRecord = {
      upload_id: ulid(),
      channel: 'acme/morning-show',
      status: 'approved',
      source: 'file',
      filename: 'clip.mp4',
      type: 'video/mp4',
      size: 1,
      title: null,
      clip: null,
      checks: [],
      created_at: at,
      updated_at: at,
    };
    await uploads.create(record);
    await mkdir(quarantineDir, { recursive: true });
    await copyFile(fixtures.validMp4, join(quarantineDir, record.upload_id));
    const worker = () =>
      new PromotionWorker({
        bus,
        uploads,
        audit: new AuditLog(bus),
        logger: createLogger({ level: 'silent' }),
        quarantine: new QuarantinedUploads(new FilesystemObjectStore(quarantineDir)),
        media: new FilesystemObjectStore(mediaDir),
        stagingDir: join(mediaDir, STAGING_DIR_NAME),
        concurrency: 1,
        ackWaitMs: 2_000,
      });

    const published = new Promise<void>((resolve) => {
      const subscription = bus.subscribe(SUBJECTS.audit(AUDIT_ACTIONS.quarantineDeleted), (_subject, data) => {
        if (decodeJson(data, auditRecordSchema).target !== record.upload_id) return;
        subscription.unsubscribe();
        resolve();
      });
    });
    const first = worker();
    await first.start();
    await enqueuePromotionJob(bus, { upload_id: record.upload_id, channel: record.channel, approved_by: 'moderator:test', approved_at: at });
    // Killed while the job is in hand (in the limiter or in ffmpeg): the transcode is aborted.
    await first.stop();
    const second = worker();
    await second.start();
    // The bus's redelivery timers are unref'd; this keeps the process up while the job comes back.
    const keepAlive = setInterval(() => {}, 1_000);
    try {
      await published;
    } finally {
      clearInterval(keepAlive);
    }
    await second.stop();

    assert.equal((await uploads.get(record.upload_id))?.status, 'published');
    const clips = await bus.readLatest(STREAMS.clips.name, { limit: 100 });
    assert.equal(clips.length, 1, 'one clip.published');
    const audits = (await bus.readLatest(STREAMS.audit.name, { limit: 100 })).map((m) => decodeJson(m.data, auditRecordSchema));
    assert.equal(audits.filter((entry) => entry.action === AUDIT_ACTIONS.uploadPublished).length, 1);
    assert.equal(audits.filter((entry) => entry.action === AUDIT_ACTIONS.uploadRejected).length, 0, 'an aborted transcode is not a failed one');
  });
});
