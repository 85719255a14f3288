import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { ulid } from 'ulid';
import { vodFixtures } from '../../../test/fixtures/vod-fixtures.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { eventually } from '../../../test/support/eventually.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { uploadThroughTus } from '../../../test/support/tus-upload.js';
import { AUDIT_ACTIONS, AuditLog, auditRecordSchema, type AuditRecord } from '../audit/index.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, decodeJson, type Bus, type BusMessage } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { QuarantinedUploads, UploadStore, type UploadRecord } from '../uploads/index.js';
import { VodSlots, VodStore, VodWorker, enqueueVodJob, readVodOutputMarker, type VodJob, type VodRecord } from '../vod-jobs/index.js';
import { PromotionWorker } from './promotion-worker.js';
import { replayOfUpload } from './replay-of-upload.js';

const json = { 'Content-Type': 'application/json' };
/** The viewers' clip length here: the 4 s recording is beyond it. */
const CLIP_LIMIT_S = 3;

interface UploadStatus {
  status: string;
  checks: { name: string; result: string }[];
  media?: unknown;
  replay?: { canonical_id: string; vod: string };
}

/** A delivery handed to a worker's `handle()` by the test: a redelivery, as the bus would make it. */
function delivery(subject: string, body: unknown, deliveryCount = 1): BusMessage {
  return {
    subject,
    data: new TextEncoder().encode(JSON.stringify(body)),
    seq: 1,
    deliveryCount,
    ack: () => undefined,
    nak: () => undefined,
    working: () => undefined,
    term: () => undefined,
  };
}

describeEachBus("a publisher's long recording becomes a replay ladder (real ffmpeg)", (under) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ natsUrl: under.natsUrl(), env: {
        UPLOAD_MAX_DURATION_S: String(CLIP_LIMIT_S),
        UPLOAD_RATE_LIMIT_PER_MINUTE: '1000',
        // The waits below read upload and replay records many times a minute.
        STATUS_RATE_LIMIT_PER_MINUTE: '100000',
      } });
  });
  after(() => server.close());

  const uploadStatus = async (uploadId: string) => (await (await server.request(`/api/v1/uploads/${uploadId}`)).json()) as UploadStatus;
  const auditFor = async (target: string): Promise<AuditRecord[]> => {
    const { records } = (await (await server.request('/api/v1/audit?limit=200', { admin: true })).json()) as { records: AuditRecord[] };
    return records.filter((record) => record.target === target);
  };
  const upload = async (body: Record<string, unknown>, file: string, authorization?: string) => {
    const response = await server.request('/api/v1/uploads/token', { method: 'POST', headers: { ...json, ...(authorization ? { Authorization: authorization } : {}) }, body: JSON.stringify(body) });
    assert.equal(response.status, 201, await response.clone().text());
    const grant = (await response.json()) as { upload_id: string; upload_url: string; token: string };
    await uploadThroughTus(grant, file);
    return grant.upload_id;
  };

  it('is moderated, approved without review, and published as a multi-rung replay linked both ways; a viewer clip of that length is rejected', async () => {
    const { landscape480: recording } = await vodFixtures();
    const body = { channel: TEST_CHANNEL, filename: 'tuesday.mp4', size: (await stat(recording)).size, type: 'video/mp4', title: 'Tuesday show' };

    // The same file from a viewer: past the clip length, the media check rejects it.
    const viewerUpload = await upload({ ...body, source: 'file' }, recording);
    const grantResponse = await server.request(`/api/v1/channels/${TEST_CHANNEL}/publisher-grants`, { method: 'POST', admin: true });
    const { token } = (await grantResponse.json()) as { token: string };
    const uploadId = await upload({ ...body, source: 'broadcast' }, recording, `Bearer ${token}`);

    const viewer = await eventually(async () => {
      const status = await uploadStatus(viewerUpload);
      return status.status === 'rejected' && status;
    }, 'the viewer upload rejected', 60_000);
    assert.ok(viewer.checks.some((check) => check.name === 'media-probe' && check.result === 'fail'));

    // Every check ran and passed; the channel's approval is review, yet the publisher's own recording is approved.
    const handed = await eventually(async () => {
      const status = await uploadStatus(uploadId);
      assert.ok(!['rejected', 'in_review', 'deleted'].includes(status.status), `the recording went ${status.status}`);
      return status.status === 'published' && status;
    }, 'the recording handed to its replay', 60_000);
    for (const name of ['magic-bytes', 'text', 'media-probe', 'perceptual-hash']) assert.ok(handed.checks.some((check) => check.name === name), `${name} ran`);
    for (const check of handed.checks) assert.equal(check.result, 'pass', check.name);
    const expected = replayOfUpload({ upload_id: uploadId, channel: TEST_CHANNEL });
    assert.deepEqual(handed.replay, expected);
    assert.equal(handed.media, undefined, 'no clip rendition');

    const replay = await eventually(async () => {
      const record = (await (await server.request(handed.replay!.vod, { admin: true })).json()) as { vod?: VodRecord } & VodRecord;
      const vod = record.vod ?? record;
      assert.notEqual(vod.state, 'failed', JSON.stringify(vod.failure));
      return vod.state === 'published' && vod;
    }, 'the replay published', 120_000);
    assert.equal(replay.canonical_id, expected.canonical_id);
    assert.equal(replay.upload_id, uploadId);
    assert.equal(replay.title, 'Tuesday show');
    assert.deepEqual(
      replay.renditions?.map((rendition) => rendition.height),
      [480, 360],
      'the ladder of a 480p source: its own size and the rung below, never upscaled',
    );
    assert.ok((replay.duration_s ?? 0) >= 3.5, `duration ${replay.duration_s}`);

    const listed = (await (await server.request(`/api/v1/channels/${TEST_CHANNEL}/vods`, { admin: true })).json()) as { vods: VodRecord[] };
    assert.ok(listed.vods.some((vod) => vod.canonical_id === expected.canonical_id && vod.state === 'published'));
    const master = await server.request(replay.urls!.master);
    assert.equal(master.status, 200);
    const variants = (await master.text()).split('\n').filter((line) => line.startsWith('#EXT-X-STREAM-INF'));
    assert.equal(variants.length, 2);
    assert.equal((await server.request(`/media/${uploadId}/video.mp4`)).status, 404, 'no single MP4 of it under /media');

    // The quarantined bytes go once the replay is made, and that is audited once.
    await eventually(async () => !(await readdir(server.quarantineDir)).some((name) => name.startsWith(uploadId)), 'the quarantined recording deleted', 20_000);
    const audit = await eventually(async () => {
      const records = await auditFor(uploadId);
      return records.some((record) => record.action === AUDIT_ACTIONS.quarantineDeleted) && records;
    }, 'the quarantine deletion audited');
    const approved = audit.filter((record) => record.action === AUDIT_ACTIONS.uploadApproved);
    assert.equal(approved.length, 1);
    assert.equal(approved[0]?.actor, 'moderation');
    assert.equal(audit.filter((record) => record.action === AUDIT_ACTIONS.uploadPublished).length, 1);
    assert.deepEqual(audit.find((record) => record.action === AUDIT_ACTIONS.uploadPublished)?.details?.['replay'], expected);
    const deleted = audit.filter((record) => record.action === AUDIT_ACTIONS.quarantineDeleted);
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0]?.actor, 'vod');
  });
});

describeEachBus('replay promotion delivered again (real ffmpeg)', (under) => {
  let bus: Bus;
  let dir: string;

  before(async () => {
    const url = under.natsUrl();
    bus = url ? await createNatsBus({ url, name: 'replay-upload-redelivery-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    dir = await mkdtemp(join(tmpdir(), 'live-upload-replay-upload-'));
  });
  after(async () => {
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('queues one replay, publishes the upload once, and a redelivered replay job neither transcodes again nor loses the replay', async () => {
    const { small240 } = await vodFixtures();
    const quarantineDir = join(dir, 'quarantine');
    const media = new FilesystemObjectStore(join(dir, 'media'));
    const quarantine = new QuarantinedUploads(new FilesystemObjectStore(quarantineDir));
    const uploads = await UploadStore.open(bus);
    const vods = await VodStore.open(bus);
    const audit = new AuditLog(bus);
    const logger = createLogger({ level: 'silent' });
    const at = new Date().toISOString();
    const record: UploadRecord = {
      upload_id: ulid(),
      channel: 'acme/redelivered',
      status: 'approved',
      source: 'broadcast',
      filename: 'show.mp4',
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
    await copyFile(small240, join(quarantineDir, record.upload_id));

    const queued: VodJob[] = [];
    const promotion = new PromotionWorker({
      bus,
      uploads,
      audit,
      logger,
      quarantine,
      media,
      stagingDir: join(dir, 'staging'),
      concurrency: 1,
      replays: {
        enqueue: async ({ upload_id, ...job }) => {
          const vodJob: VodJob = { ...job, source: { kind: 'upload', upload_id } };
          queued.push(vodJob);
          await enqueueVodJob(bus, vodJob, { vods });
        },
        cancel: async (canonicalId) => {
          await vods.cancel(canonicalId);
        },
      },
    });
    const job = { upload_id: record.upload_id, channel: record.channel, approved_by: 'moderation', approved_at: at };
    await promotion.handle(delivery(SUBJECTS.uploadsApproved, job));
    await promotion.handle(delivery(SUBJECTS.uploadsApproved, job, 2));
    const replay = replayOfUpload(record);
    assert.equal(queued.length, 1, 'a published upload queues nothing more');
    const published = await uploads.get(record.upload_id);
    assert.equal(published?.status, 'published');
    assert.deepEqual(published?.replay, replay);
    assert.equal((await vods.get(replay.canonical_id))?.state, 'queued');
    assert.equal((await vods.get(replay.canonical_id))?.upload_id, record.upload_id);

    const worker = new VodWorker({
      bus,
      vods,
      slots: await VodSlots.open(bus),
      media,
      stagingDir: join(dir, 'media', '.staging'),
      logger,
      concurrency: 1,
      perPublisherLimit: 2,
      sourcePolicy: { allowPrivateHosts: new Set() },
      ladder: { rungs: [240], segmentS: 1, preset: 'ultrafast', storyboard: { intervalS: 1, columns: 2, rows: 1 } },
      uploads: { quarantine, audit },
    });
    await worker.handle(delivery(SUBJECTS.vodJobs, queued[0]));
    const made = await vods.get(replay.canonical_id);
    assert.equal(made?.state, 'published', JSON.stringify(made?.failure));
    assert.deepEqual(made?.renditions?.map((rendition) => rendition.height), [240]);
    const marker = await readVodOutputMarker(media, replay.canonical_id);
    assert.ok(marker);
    assert.equal(await quarantine.lastWrittenMs(record.upload_id), undefined, 'the quarantined bytes are gone');

    // Delivered again after it ended (a worker that died before its ack): nothing changes.
    await worker.handle(delivery(SUBJECTS.vodJobs, queued[0], 2));
    const again = await vods.get(replay.canonical_id);
    assert.equal(again?.updated_at, made?.updated_at);
    assert.deepEqual(await readVodOutputMarker(media, replay.canonical_id), marker);

    const audited = (await bus.readLatest(STREAMS.audit.name, { limit: 200 }))
      .map((message) => decodeJson(message.data, auditRecordSchema))
      .filter((entry) => entry.target === record.upload_id);
    assert.equal(audited.filter((entry) => entry.action === AUDIT_ACTIONS.uploadPublished).length, 1);
    assert.equal(audited.filter((entry) => entry.action === AUDIT_ACTIONS.quarantineDeleted).length, 1);
  });

  it('cancels the replay of an upload rejected before it was handed over, and makes no replay of an upload without bytes', async () => {
    const uploads = await UploadStore.open(bus);
    const vods = await VodStore.open(bus);
    const at = new Date().toISOString();
    const record: UploadRecord = {
      upload_id: ulid(),
      channel: 'acme/redelivered',
      status: 'rejected',
      source: 'broadcast',
      filename: 'show.mp4',
      type: 'video/mp4',
      size: 1,
      title: null,
      clip: null,
      checks: [],
      created_at: at,
      updated_at: at,
    };
    await uploads.create(record);
    const quarantine = new QuarantinedUploads(new FilesystemObjectStore(join(dir, 'empty-quarantine')));
    const enqueued: string[] = [];
    const promotion = new PromotionWorker({
      bus,
      uploads,
      audit: new AuditLog(bus),
      logger: createLogger({ level: 'silent' }),
      quarantine,
      media: new FilesystemObjectStore(join(dir, 'media-2')),
      stagingDir: join(dir, 'staging-2'),
      concurrency: 1,
      replays: { enqueue: async (request) => void enqueued.push(request.canonical_id), cancel: async () => undefined },
    });
    await promotion.handle(delivery(SUBJECTS.uploadsApproved, { upload_id: record.upload_id, channel: record.channel, approved_by: 'moderation', approved_at: at }));
    assert.deepEqual(enqueued, [], 'a rejected upload becomes no replay');

    const replay = replayOfUpload(record);
    const job: VodJob = { canonical_id: replay.canonical_id, channel: record.channel, source: { kind: 'upload', upload_id: record.upload_id }, started_at: at, requested_at: at };
    await enqueueVodJob(bus, job, { vods });
    const worker = new VodWorker({
      bus,
      vods,
      slots: await VodSlots.open(bus),
      media: new FilesystemObjectStore(join(dir, 'media-2')),
      stagingDir: join(dir, 'media-2', '.staging'),
      logger: createLogger({ level: 'silent' }),
      concurrency: 1,
      perPublisherLimit: 2,
      sourcePolicy: { allowPrivateHosts: new Set() },
      uploads: { quarantine, audit: new AuditLog(bus) },
    });
    await worker.handle(delivery(SUBJECTS.vodJobs, job));
    const failed = await vods.get(replay.canonical_id);
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.failure?.reason, 'no-media');
  });
});
