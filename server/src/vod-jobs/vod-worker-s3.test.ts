/**
 * The VOD worker on S3 (s3rver): a broadcast's archive in the media bucket becomes a replay in
 * the same bucket, every file with its type, and the server (on the same bucket, running no
 * workers itself) serves it under /vod with ranges; a publisher's recording in the quarantine
 * bucket becomes a replay the same way.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { ulid } from 'ulid';
import { vodFixtures } from '../../../test/fixtures/vod-fixtures.js';
import { sourceSegments } from '../../../test/fakes/hls-origin/source-segments.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { AuditLog } from '../audit/index.js';
import { SUBJECTS, encodeJson, type BusMessage } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { QuarantinedUploads } from '../uploads/index.js';
import { ArchiveSink, SEGMENT_FORMATS } from '../vod-ingest/index.js';
import { enqueueVodJob } from './enqueue-vod-job.js';
import { vodArchivePrefix, vodFileFor, vodOutputPrefix } from './vod-files.js';
import type { VodJob } from './vod-job.js';
import { VOD_OUTPUT_MARKER } from './vod-output.js';
import { VodSlots } from './vod-slots.js';
import { VodStore } from './vod-store.js';
import { VodWorker } from './vod-worker.js';

function delivery(job: VodJob): BusMessage & { settled: string[] } {
  const settled: string[] = [];
  return {
    subject: SUBJECTS.vodJobs,
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

describe('VOD worker on S3 (s3rver)', () => {
  let s3: S3ServerHandle;
  let storage: Storage;
  let server: TestServer;
  let stagingDir: string;

  before(async () => {
    s3 = await startS3Server();
    stagingDir = await mkdtemp(join(tmpdir(), 'live-upload-vod-s3-staging-'));
    storage = await openStorage(s3.storage, { scratchDir: join(stagingDir, 'downloads') });
    server = await startTestServer({ env: { ...s3.env, WORKERS: 'none' } });
  });
  after(async () => {
    await server?.close();
    await storage?.close();
    await s3?.stop();
    await rm(stagingDir, { recursive: true, force: true });
  });

  it('publishes an archive from the bucket into the bucket, typed, and the server serves it with ranges', async () => {
    const startedMs = Date.now() - 60_000;
    const id = createCanonicalId({ publisher: 'acme', slug: 'morning-show' }, startedMs);
    const prefix = vodArchivePrefix(id);
    const sink = await ArchiveSink.open(storage.media, prefix, { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock: { now: () => Date.now() } });
    for (const [sequence, segment] of (await sourceSegments('audio-video', 4)).entries()) {
      const key = await sink.putSegment(sequence, SEGMENT_FORMATS.mpegTs, Readable.from([segment.data]));
      await sink.append({ kind: 'segment', sequence, key, format: SEGMENT_FORMATS.mpegTs, durationS: segment.durationS, bytes: segment.data.length, discontinuity: false, discontinuitySequence: 0 });
    }
    await sink.end('stop');
    const bus = server.running.bus;
    const vods = await VodStore.open(bus);
    const job: VodJob = { canonical_id: id, channel: 'acme/morning-show', source: { kind: 'live-archive', archive_prefix: prefix }, started_at: new Date(startedMs).toISOString(), requested_at: new Date().toISOString() };
    await enqueueVodJob(bus, job, { vods });
    const worker = new VodWorker({
      bus,
      vods,
      slots: await VodSlots.open(bus),
      media: storage.media,
      stagingDir,
      logger: createLogger({ level: 'silent' }),
      concurrency: 1,
      perPublisherLimit: 1,
      sourcePolicy: { allowPrivateHosts: new Set() },
      ladder: { rungs: [240], segmentS: 1, preset: 'ultrafast' },
    });
    const message = delivery(job);
    await worker.handle(message);
    assert.deepEqual(message.settled, []);
    const record = await vods.get(id);
    assert.equal(record?.state, 'published', JSON.stringify(record?.failure));

    const output = vodOutputPrefix(id);
    const keys: string[] = [];
    for await (const object of storage.media.list(output)) {
      const file = object.key.slice(output.length);
      keys.push(file);
      if (file !== VOD_OUTPUT_MARKER) assert.equal((await storage.media.head(object.key))?.contentType, vodFileFor(file)?.contentType, file);
    }
    assert.ok(keys.includes('master.m3u8') && keys.includes(VOD_OUTPUT_MARKER) && keys.some((key) => key.endsWith('.m4s')), keys.join(','));
    const archived: string[] = [];
    for await (const object of storage.media.list(prefix)) archived.push(object.key);
    assert.deepEqual(archived, []);

    const segment = keys.find((key) => key.endsWith('.m4s'))!;
    const path = `/vod/${id.split(':').slice(1).join('/')}`;
    const ranged = await server.request(`${path}/${segment}`, { headers: { Range: 'bytes=0-9' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-type'), 'video/iso.segment');
    assert.equal((await ranged.arrayBuffer()).byteLength, 10);
    assert.equal((await server.request(`${path}/master.m3u8`)).status, 200);
  });

  it("makes a publisher's recording in the quarantine bucket a replay in the media bucket, then deletes the recording", async () => {
    const uploadId = ulid();
    const id = `stream:acme:morning-show:${uploadId}`;
    const quarantine = new QuarantinedUploads(storage.quarantine);
    await storage.quarantine.putFile(uploadId, (await vodFixtures()).small240);
    const bus = server.running.bus;
    const vods = await VodStore.open(bus);
    const nowIso = new Date().toISOString();
    const job: VodJob = { canonical_id: id, channel: 'acme/morning-show', source: { kind: 'upload', upload_id: uploadId }, started_at: nowIso, requested_at: nowIso };
    await enqueueVodJob(bus, job, { vods });
    const worker = new VodWorker({
      bus,
      vods,
      slots: await VodSlots.open(bus),
      media: storage.media,
      stagingDir,
      logger: createLogger({ level: 'silent' }),
      concurrency: 1,
      perPublisherLimit: 1,
      sourcePolicy: { allowPrivateHosts: new Set() },
      ladder: { rungs: [240], segmentS: 1, preset: 'ultrafast' },
      uploads: { quarantine, audit: new AuditLog(bus) },
    });
    const message = delivery(job);
    await worker.handle(message);
    assert.deepEqual(message.settled, []);
    const record = await vods.get(id);
    assert.equal(record?.state, 'published', JSON.stringify(record?.failure));
    assert.equal(record?.upload_id, uploadId);
    assert.ok((await storage.media.head(`${vodOutputPrefix(id)}master.m3u8`)) !== undefined);
    assert.equal(await quarantine.lastWrittenMs(uploadId), undefined, 'the recording left the quarantine bucket');
    assert.equal((await server.request(`/vod/acme/morning-show/${uploadId}/master.m3u8`)).status, 200);
  });
});
