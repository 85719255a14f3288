/**
 * The promotion worker inside the real server: an upload goes through tus and the real
 * moderation worker into review, a moderator's approval is played by moving the record to
 * `approved` and publishing the promotion job (exactly what the decision route does), and the
 * worker transcodes it with real ffmpeg. The failure and skip cases write straight into the
 * quarantine (store + file) to stay fast.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { uploadThroughTus } from '../../../test/support/tus-upload.js';
import { ulid } from 'ulid';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { AUDIT_ACTIONS, AuditLog, auditRecordSchema, type AuditRecord } from '../audit/index.js';
import { STREAMS, SUBJECTS, decodeJson, encodeJson, type BusMessage, type Subscription } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { QuarantinedUploads, UploadStore, enqueuePromotionJob, transitionUpload, type PromotionJob, type UploadRecord } from '../uploads/index.js';
import { clipPublishedEventSchema, type ClipPublishedEvent } from './clip-published-event.js';
import { PromotionWorker, STAGING_DIR_NAME } from './promotion-worker.js';
import { publishedMediaUrls } from './published-media.js';

interface Grant {
  readonly upload_url: string;
  readonly token: string;
  readonly upload_id: string;
}


/** Collects what one subject pattern carries and lets a test wait for a message (no sleeps). */
class Collector<T> {
  readonly seen: T[] = [];
  private readonly waiters: Array<{ match: (item: T) => boolean; resolve: (item: T) => void }> = [];
  readonly subscription: Subscription;

  constructor(subscribe: (handler: (item: T) => void) => Subscription) {
    this.subscription = subscribe((item) => {
      this.seen.push(item);
      for (const waiter of [...this.waiters]) {
        if (!waiter.match(item)) continue;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(item);
      }
    });
  }

  next(match: (item: T) => boolean): Promise<T> {
    const found = this.seen.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

/** A delivery the test hands to `handle()` itself, remembering how it was settled. */
function delivery(job: PromotionJob, deliveryCount = 1): BusMessage & { settled: string[] } {
  const settled: string[] = [];
  return {
    subject: SUBJECTS.uploadsApproved,
    data: encodeJson(job),
    seq: 1,
    deliveryCount,
    settled,
    ack: () => settled.push('ack'),
    nak: () => settled.push('nak'),
    term: () => settled.push('term'),
    working: () => {},
  };
}

const exists = (path: string) => stat(path).then(() => true, () => false);

describeEachBus('promotion worker', (bus) => {
  let server: TestServer;
  let fixtures: MediaFixtures;
  let uploads: UploadStore;
  let audit: Collector<AuditRecord>;
  let clips: Collector<{ subject: string; event: ClipPublishedEvent }>;

  before(async () => {
    fixtures = await mediaFixtures();
    server = await startTestServer({ natsUrl: bus.natsUrl() });
    uploads = await UploadStore.open(server.running.bus);
    const busOfServer = server.running.bus;
    audit = new Collector((handler) => busOfServer.subscribe(SUBJECTS.auditAll, (_subject, data) => handler(decodeJson(data, auditRecordSchema))));
    clips = new Collector((handler) =>
      busOfServer.subscribe(SUBJECTS.clipPublishedAll, (subject, data) => handler({ subject, event: decodeJson(data, clipPublishedEventSchema) })),
    );
  });
  after(async () => {
    audit.subscription.unsubscribe();
    clips.subscription.unsubscribe();
    await server.close();
  });

  const approve = async (uploadId: string): Promise<PromotionJob> => {
    await uploads.update(uploadId, (record) => (record.status === 'approved' ? record : transitionUpload(record, 'approved', new Date().toISOString())));
    const job = { upload_id: uploadId, channel: TEST_CHANNEL, approved_by: 'moderator:test', approved_at: new Date().toISOString() };
    await enqueuePromotionJob(server.running.bus, job);
    return job;
  };

  /** An approved upload written straight into the quarantine. */
  const quarantined = async (source: string, status: UploadRecord['status'] = 'approved'): Promise<UploadRecord> => {
    const at = new Date().toISOString();
    const record: UploadRecord = {
      upload_id: ulid(),
      channel: TEST_CHANNEL,
      status,
      source: 'file',
      filename: 'clip.mp4',
      type: 'video/mp4',
      size: (await stat(source)).size,
      title: null,
      clip: null,
      checks: [],
      created_at: at,
      updated_at: at,
    };
    await uploads.create(record);
    await copyFile(source, join(server.quarantineDir, record.upload_id));
    return record;
  };

  const quarantinedPath = (uploadId: string) => join(server.quarantineDir, uploadId);

  let publishedId = '';


  /** A second promotion worker on the same server, bus and directories (what a redelivery reaches). */
  function workerOnThisServer(): PromotionWorker {
    return new PromotionWorker({
      bus: server.running.bus,
      uploads,
      audit: new AuditLog(server.running.bus),
      logger: createLogger({ level: 'silent' }),
      quarantine: new QuarantinedUploads(new FilesystemObjectStore(server.quarantineDir)),
      media: new FilesystemObjectStore(server.mediaDir),
      stagingDir: join(server.mediaDir, STAGING_DIR_NAME),
      concurrency: 1,
    });
  }

  it('publishes an approved tus upload: MP4 with ranges, HLS, JPEG poster, clip.published with provenance, quarantine deleted and audited', async () => {
    const bytes = await readFile(fixtures.validMp4);
    const canonicalId = `stream:acme:morning-show:${ulid()}`;
    const grantResponse = await server.request('/api/v1/uploads/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        channel: TEST_CHANNEL,
        filename: 'best bit.mp4',
        size: bytes.length,
        type: 'video/mp4',
        source: 'clip',
        clip: { canonical_id: canonicalId, from_s: 12, to_s: 17 },
      }),
    });
    assert.equal(grantResponse.status, 201, await grantResponse.clone().text());
    const grant = (await grantResponse.json()) as Grant;
    const id = grant.upload_id;
    await uploadThroughTus(grant, bytes);
    const moderated = await audit.next((entry) => entry.target === id && [AUDIT_ACTIONS.uploadInReview, AUDIT_ACTIONS.uploadApproved].includes(entry.action as never));
    assert.ok(moderated, 'moderation reviewed the upload');

    const done = audit.next((entry) => entry.target === id && entry.action === AUDIT_ACTIONS.quarantineDeleted);
    await approve(id);
    const deletion = await done;
    publishedId = id;
    assert.equal(deletion.reason, 'promoted');
    assert.ok(audit.seen.some((entry) => entry.target === id && entry.action === AUDIT_ACTIONS.uploadPublished));

    const urls = publishedMediaUrls(id);
    const status = await server.request(`/api/v1/uploads/${id}`);
    const body = (await status.json()) as { status: string; media?: unknown };
    assert.equal(body.status, 'published');
    assert.deepEqual(body.media, { mp4: `/media/${id}/video.mp4`, hls: `/media/${id}/hls/index.m3u8`, poster: `/media/${id}/poster.jpg` });

    const { subject, event } = await clips.next((clip) => clip.event.upload_id === id);
    assert.equal(subject, 'clips.published.acme.morning-show');
    assert.equal(event.channel, TEST_CHANNEL);
    assert.equal(event.canonical_id, canonicalId);
    assert.equal(event.from_s, 12);
    assert.equal(event.to_s, 17);
    assert.deepEqual(event.media, urls);
    assert.ok(Number.isFinite(Date.parse(event.published_at)));

    assert.equal(await exists(quarantinedPath(id)), false, 'the quarantined bytes are gone');
    assert.equal(await exists(`${quarantinedPath(id)}.json`), false, 'and the tus metadata');

    const mp4OnDisk = await readFile(join(server.mediaDir, id, 'video.mp4'));
    const range = await server.request(urls.mp4, { headers: { Range: 'bytes=4-11' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), `bytes 4-11/${mp4OnDisk.length}`);
    assert.equal(range.headers.get('content-type'), 'video/mp4');
    assert.equal(range.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const boxType = Buffer.from(await range.arrayBuffer());
    assert.deepEqual(boxType, mp4OnDisk.subarray(4, 12));
    assert.equal(boxType.subarray(0, 4).toString('latin1'), 'ftyp');
    assert.ok(mp4OnDisk.indexOf('moov') < mp4OnDisk.indexOf('mdat'), '+faststart: moov before mdat');

    const playlist = await server.request(urls.hls);
    assert.equal(playlist.status, 200);
    assert.equal(playlist.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    const m3u8 = await playlist.text();
    assert.match(m3u8, /^#EXTM3U/);
    const firstSegment = /^(segment-\d+\.ts)$/m.exec(m3u8)?.[1];
    assert.ok(firstSegment, m3u8);
    const segment = await server.request(`/media/${id}/hls/${firstSegment}`);
    assert.equal(segment.status, 200);
    assert.equal(segment.headers.get('content-type'), 'video/mp2t');
    assert.equal(Buffer.from(await segment.arrayBuffer())[0], 0x47, 'an MPEG-TS sync byte');

    const poster = await server.request(urls.poster);
    assert.equal(poster.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual([...Buffer.from(await poster.arrayBuffer()).subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assert.deepEqual((await readdir(join(server.mediaDir, '.staging'))).length, 0, 'no staging leftovers');
  });

  it('applies a job delivered twice once: the second delivery is acked and skipped', async () => {
    assert.ok(publishedId, 'needs the published upload of the previous test');
    const job = { upload_id: publishedId, channel: TEST_CHANNEL, approved_by: 'moderator:test', approved_at: new Date().toISOString() };
    const republished = await enqueuePromotionJob(server.running.bus, job);
    assert.equal(republished.duplicate, true, 'the bus drops a repeated approval');

    // A redelivery (after a lost ack) reaches the worker itself.
    const worker = workerOnThisServer();
    const mp4Before = await stat(join(server.mediaDir, publishedId, 'video.mp4'));
    const message = delivery(job, 2);
    await worker.handle(message);
    assert.deepEqual(message.settled, [], 'resolves: the bus acks it');
    const mp4After = await stat(join(server.mediaDir, publishedId, 'video.mp4'));
    assert.equal(mp4After.mtimeMs, mp4Before.mtimeMs, 'not transcoded again');

    const stored = await server.running.bus.readLatest(STREAMS.clips.name, { limit: 100 });
    assert.equal(stored.filter((m) => decodeJson(m.data, clipPublishedEventSchema).upload_id === publishedId).length, 1, 'one clip.published');
    const audits = (await server.running.bus.readLatest(STREAMS.audit.name, { limit: 500 }))
      .map((m) => decodeJson(m.data, auditRecordSchema))
      .filter((entry) => entry.target === publishedId && (entry.action === AUDIT_ACTIONS.uploadPublished || entry.action === AUDIT_ACTIONS.quarantineDeleted));
    assert.equal(audits.length, 2, 'one upload.published and one quarantine.deleted');
  });

  it('rejects an upload whose transcode keeps failing after the retries, audited, with nothing served', async () => {
    const record = await quarantined(fixtures.truncatedNoMoovMp4);
    const rejected = audit.next((entry) => entry.target === record.upload_id && entry.action === AUDIT_ACTIONS.uploadRejected);
    await approve(record.upload_id);
    const entry = await rejected;
    assert.equal(entry.reason, 'transcode failed');
    assert.equal(entry.actor, 'publishing');
    assert.equal((await uploads.get(record.upload_id))?.status, 'rejected');
    assert.equal(await exists(join(server.mediaDir, record.upload_id)), false);
    assert.equal(await exists(quarantinedPath(record.upload_id)), true, 'kept for the rejected retention, then swept');
    const media = await server.request(`/media/${record.upload_id}/video.mp4`);
    assert.equal(media.status, 404);
    assert.equal(clips.seen.some((clip) => clip.event.upload_id === record.upload_id), false);
  });

  it('does not promote an upload that is not approved, and /media/ keeps it hidden', async () => {
    const record = await quarantined(fixtures.validFaststartMp4, 'in_review');
    const worker = workerOnThisServer();
    const message = delivery({ upload_id: record.upload_id, channel: TEST_CHANNEL, approved_by: 'x', approved_at: new Date().toISOString() });
    await worker.handle(message);
    assert.deepEqual(message.settled, []);
    assert.equal((await uploads.get(record.upload_id))?.status, 'in_review');
    assert.equal(await exists(join(server.mediaDir, record.upload_id)), false);
    assert.equal((await server.request(`/media/${record.upload_id}/video.mp4`)).status, 404);

    const unknown = delivery({ upload_id: ulid(), channel: TEST_CHANNEL, approved_by: 'x', approved_at: new Date().toISOString() });
    await worker.handle(unknown);
    assert.deepEqual(unknown.settled, ['term'], 'a job for an unknown upload is dropped');
    const malformed = { ...delivery({ upload_id: record.upload_id, channel: TEST_CHANNEL, approved_by: 'x', approved_at: 'y' }), data: new TextEncoder().encode('{nope') };
    await worker.handle(malformed);
    assert.deepEqual(malformed.settled, ['term'], 'a malformed job is dropped');
  });
});
