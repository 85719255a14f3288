/**
 * The promotion worker on S3 (s3rver): an approved upload's bytes in the quarantine bucket are
 * transcoded with real ffmpeg and published into the media bucket, and the server (on the same
 * buckets) serves them under /media with ranges. The worker runs beside the server (which runs
 * no workers itself) so each case hands it exactly the delivery it is about.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ulid } from 'ulid';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { eventually } from '../../../test/support/eventually.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { AuditLog } from '../audit/index.js';
import { SUBJECTS, encodeJson, type BusMessage } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { openStorage, type ObjectStore, type Storage } from '../storage/index.js';
import { QuarantinedUploads, UploadStore, transitionUpload, type PromotionJob, type UploadRecord } from '../uploads/index.js';
import { PromotionWorker } from './promotion-worker.js';
import { OUTPUT_COMPLETE_MARKER } from './published-media-output.js';
import { publishedMediaUrls } from './published-media.js';

/** A delivery the test hands to `handle()` itself. */
function delivery(uploadId: string): BusMessage & { settled: string[] } {
  const settled: string[] = [];
  const job: PromotionJob = { upload_id: uploadId, channel: TEST_CHANNEL, approved_by: 'moderator:test', approved_at: new Date().toISOString() };
  return {
    subject: SUBJECTS.uploadsApproved,
    data: encodeJson(job),
    seq: 1,
    deliveryCount: 1,
    settled,
    ack: () => settled.push('ack'),
    nak: () => settled.push('nak'),
    term: () => settled.push('term'),
    working: () => {},
  };
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key.slice(prefix.length));
  return keys;
}

async function bytesOf(store: ObjectStore, key: string): Promise<Buffer> {
  const read = await store.get(key);
  assert.ok(read, key);
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('promotion worker on S3 (s3rver)', () => {
  let s3: S3ServerHandle;
  let storage: Storage;
  let server: TestServer;
  let fixtures: MediaFixtures;
  let uploads: UploadStore;
  let worker: PromotionWorker;
  let stagingDir: string;

  before(async () => {
    fixtures = await mediaFixtures();
    s3 = await startS3Server();
    stagingDir = await mkdtemp(join(tmpdir(), 'live-upload-s3-staging-'));
    storage = await openStorage(s3.storage, { scratchDir: join(stagingDir, 'downloads') });
    server = await startTestServer({ env: { ...s3.env, WORKERS: 'none' } });
    uploads = await UploadStore.open(server.running.bus);
    worker = new PromotionWorker({
      bus: server.running.bus,
      uploads,
      audit: new AuditLog(server.running.bus),
      logger: createLogger({ level: 'silent' }),
      quarantine: new QuarantinedUploads(storage.quarantine),
      media: storage.media,
      stagingDir,
      concurrency: 1,
    });
  });
  after(async () => {
    await server?.close();
    await storage?.close();
    await s3?.stop();
    await rm(stagingDir, { recursive: true, force: true });
  });

  /** An approved upload whose bytes are in the quarantine bucket. */
  const approvedInQuarantine = async (source: string): Promise<UploadRecord> => {
    const at = new Date().toISOString();
    const record: UploadRecord = {
      upload_id: ulid(),
      channel: TEST_CHANNEL,
      status: 'approved',
      source: 'file',
      filename: 'clip.mp4',
      type: 'video/mp4',
      size: (await readFile(source)).length,
      title: null,
      clip: null,
      checks: [],
      created_at: at,
      updated_at: at,
    };
    await uploads.create(record);
    await storage.quarantine.putFile(record.upload_id, source);
    return record;
  };

  it('publishes into the media bucket and /media serves it with ranges; the quarantine object goes', async () => {
    const record = await approvedInQuarantine(fixtures.validMp4);
    const message = delivery(record.upload_id);
    await worker.handle(message);
    assert.deepEqual(message.settled, [], 'resolves: the bus acks it');
    assert.equal((await uploads.get(record.upload_id))?.status, 'published');

    const keys = await keysUnder(storage.media, `${record.upload_id}/`);
    for (const key of ['video.mp4', 'poster.jpg', 'hls/index.m3u8', OUTPUT_COMPLETE_MARKER]) assert.ok(keys.includes(key), `${key} in ${keys.join(', ')}`);
    assert.ok(keys.some((key) => /^hls\/segment-\d{3}\.ts$/.test(key)), 'HLS segments');
    assert.equal((await storage.media.head(`${record.upload_id}/video.mp4`))?.contentType, 'video/mp4');
    assert.equal(await storage.quarantine.head(record.upload_id), undefined, 'the quarantined bytes are gone');
    assert.deepEqual(await readdir(stagingDir), ['downloads'], 'no staging left behind');
    assert.deepEqual(await readdir(join(stagingDir, 'downloads')), [], 'nor the download of the quarantined bytes');

    const mp4 = await bytesOf(storage.media, `${record.upload_id}/video.mp4`);
    const urls = publishedMediaUrls(record.upload_id);
    const range = await server.request(urls.mp4, { headers: { Range: 'bytes=4-11' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), `bytes 4-11/${mp4.length}`);
    assert.equal(range.headers.get('etag'), (await storage.media.head(`${record.upload_id}/video.mp4`))?.etag);
    const box = Buffer.from(await range.arrayBuffer());
    assert.deepEqual(box, mp4.subarray(4, 12));
    assert.equal(box.subarray(0, 4).toString('latin1'), 'ftyp');

    const playlist = await server.request(urls.hls);
    assert.equal(playlist.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    const firstSegment = /^(segment-\d+\.ts)$/m.exec(await playlist.text())?.[1];
    assert.ok(firstSegment);
    const segment = await server.request(`/media/${record.upload_id}/hls/${firstSegment}`);
    assert.equal(segment.status, 200);
    assert.equal(Buffer.from(await segment.arrayBuffer())[0], 0x47, 'an MPEG-TS sync byte');
    assert.equal((await server.request(`/media/${record.upload_id}/${OUTPUT_COMPLETE_MARKER}`)).status, 404, 'the marker is never served');
  });

  it('reuses an output another delivery completed (no transcode: the quarantined bytes are not even read)', async () => {
    const done = await approvedInQuarantine(fixtures.validFaststartMp4);
    await worker.handle(delivery(done.upload_id));
    const before = await storage.media.head(`${done.upload_id}/video.mp4`);
    assert.ok(before);

    // The same output, complete, for an upload approved again whose bytes are gone: only a reuse can publish it.
    const again = await approvedInQuarantine(fixtures.validFaststartMp4);
    for await (const object of storage.media.list(`${done.upload_id}/`)) {
      const read = await storage.media.get(object.key);
      assert.ok(read);
      await storage.media.put(object.key.replace(done.upload_id, again.upload_id), read.body);
    }
    await storage.quarantine.delete(again.upload_id);
    const message = delivery(again.upload_id);
    await worker.handle(message);
    assert.deepEqual(message.settled, []);
    assert.equal((await uploads.get(again.upload_id))?.status, 'published');
    assert.equal((await storage.media.head(`${again.upload_id}/video.mp4`))?.size, before.size);
  });

  it('transcodes again over a partial output (no marker), and removes the output of an upload rejected while transcoding', async () => {
    const partial = await approvedInQuarantine(fixtures.validMp4);
    await storage.media.put(`${partial.upload_id}/video.mp4`, 'half of a file from a delivery that died');
    await worker.handle(delivery(partial.upload_id));
    assert.equal((await uploads.get(partial.upload_id))?.status, 'published');
    assert.ok(((await storage.media.head(`${partial.upload_id}/video.mp4`))?.size ?? 0) > 1000, 'the real MP4 replaced the partial one');

    const rejected = await approvedInQuarantine(fixtures.validMp4);
    const handled = worker.handle(delivery(rejected.upload_id));
    // Once ffmpeg writes into the job's staging directory, a moderator rejects the upload.
    await eventually(async () => (await readdir(stagingDir)).some((name) => name.startsWith(rejected.upload_id)), 'the transcode to start', 30_000);
    await uploads.update(rejected.upload_id, (current) => transitionUpload(current, 'rejected', new Date().toISOString()));
    await handled;
    assert.equal((await uploads.get(rejected.upload_id))?.status, 'rejected');
    assert.deepEqual(await keysUnder(storage.media, `${rejected.upload_id}/`), [], 'nothing of it stays in the media bucket');
    assert.equal((await server.request(`/media/${rejected.upload_id}/video.mp4`)).status, 404);
  });
});
