import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ulid } from 'ulid';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { rawGet } from '../../../test/support/raw-get.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { TEST_CHANNEL, startTestServer, type TestServer } from '../../../test/support/test-server.js';
import { publishedMediaUrls } from '../publishing/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { UploadStore, type UploadRecord, type UploadStatus } from '../uploads/index.js';

function record(uploadId: string, status: UploadStatus): UploadRecord {
  const at = new Date().toISOString();
  return {
    upload_id: uploadId,
    channel: TEST_CHANNEL,
    status,
    source: 'file',
    filename: 'clip.mp4',
    type: 'video/mp4',
    size: 1000,
    title: null,
    clip: null,
    checks: [],
    ...(status === 'published' ? { media: { ...publishedMediaUrls(uploadId) } } : {}),
    created_at: at,
    updated_at: at,
  };
}

/** Bytes 0..255 repeated, so a range's content is checkable. */
const MP4_BYTES = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
const SECRET = 'do-not-serve-this';

describeEachBus('GET /media/', (bus) => {
  let server: TestServer;
  let uploads: UploadStore;
  const published = ulid();
  const inReview = ulid();
  const rejected = ulid();

  /** Writes a published-looking output directory (the transcode itself is the worker test's business). */
  const writeMedia = async (uploadId: string) => {
    const dir = join(server.mediaDir, uploadId);
    await mkdir(join(dir, 'hls'), { recursive: true });
    await writeFile(join(dir, 'video.mp4'), MP4_BYTES);
    await writeFile(join(dir, 'poster.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]));
    await writeFile(join(dir, 'hls', 'index.m3u8'), '#EXTM3U\n#EXT-X-ENDLIST\n');
    await writeFile(join(dir, 'hls', 'segment-000.ts'), Buffer.alloc(188, 0x47));
    await writeFile(join(dir, '.secret'), SECRET);
    await writeFile(join(dir, 'hls', '.secret'), SECRET);
  };

  before(async () => {
    server = await startTestServer({ natsUrl: bus.natsUrl(), withChannel: false });
    uploads = await UploadStore.open(server.running.bus);
    await uploads.create(record(published, 'published'));
    await uploads.create(record(inReview, 'in_review'));
    await uploads.create(record(rejected, 'rejected'));
    await Promise.all([writeMedia(published), writeMedia(inReview), writeMedia(rejected)]);
    await writeFile(join(server.mediaDir, 'secret.txt'), SECRET);
  });
  after(() => server.close());

  it('serves a published MP4 with ranges, validators, its type and an immutable year of caching', async () => {
    const full = await server.request(`/media/${published}/video.mp4`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('content-type'), 'video/mp4');
    assert.equal(full.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(full.headers.get('accept-ranges'), 'bytes');
    assert.equal(full.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(full.headers.get('last-modified'));
    const etag = full.headers.get('etag');
    assert.ok(etag);
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), MP4_BYTES);

    const range = await server.request(`/media/${published}/video.mp4`, { headers: { Range: 'bytes=100-299' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), `bytes 100-299/${MP4_BYTES.length}`);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), MP4_BYTES.subarray(100, 300));

    const suffix = await server.request(`/media/${published}/video.mp4`, { headers: { Range: 'bytes=-10' } });
    assert.equal(suffix.status, 206);
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), MP4_BYTES.subarray(-10));

    const unsatisfiable = await server.request(`/media/${published}/video.mp4`, { headers: { Range: 'bytes=99999-' } });
    assert.equal(unsatisfiable.status, 416);
    assert.equal(unsatisfiable.headers.get('content-range'), `bytes */${MP4_BYTES.length}`);
    assert.equal(((await unsatisfiable.json()) as { error: { code: string } }).error.code, 'range_not_satisfiable');

    // Raw: `fetch` adds `Cache-Control: no-cache` to conditional requests, which forbids a 304.
    const revalidated = await rawGet(server.url, `/media/${published}/video.mp4`, { 'If-None-Match': etag });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.body, '');
  });

  it('serves the HLS playlist, segments and poster with their own types, to any origin', async () => {
    const expected: Array<[string, string]> = [
      ['hls/index.m3u8', 'application/vnd.apple.mpegurl'],
      ['hls/segment-000.ts', 'video/mp2t'],
      ['poster.jpg', 'image/jpeg'],
    ];
    for (const [file, type] of expected) {
      const response = await server.request(`/media/${published}/${file}`, { headers: { Origin: 'https://blog.example' } });
      assert.equal(response.status, 200, file);
      assert.equal(response.headers.get('content-type'), type, file);
      assert.equal(response.headers.get('access-control-allow-origin'), '*', file);
      await response.arrayBuffer();
    }
    const head = await server.request(`/media/${published}/video.mp4`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(MP4_BYTES.length));
    const preflight = await server.request(`/media/${published}/video.mp4`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://blog.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Range/);
  });

  it('answers 404 for an upload that is not published, an unknown id, or a file the transcode never writes', async () => {
    for (const path of [
      `/media/${inReview}/video.mp4`,
      `/media/${rejected}/poster.jpg`,
      `/media/${ulid()}/video.mp4`,
      `/media/${published}/hls/segment-999.ts`,
      `/media/${published}/other.mp4`,
      `/media/${published}`,
      `/media/${published}/`,
      '/media',
    ]) {
      const response = await server.request(path);
      assert.equal(response.status, 404, path);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'not_found', path);
    }
    const write = await server.request(`/media/${published}/video.mp4`, { method: 'DELETE' });
    assert.equal(write.status, 405);
  });

  it('never lets a path escape: traversal, encoded traversal, dotfiles, case and padding tricks are 404', async () => {
    for (const path of [
      '/media/../../etc/passwd',
      `/media/${published}/../../../etc/passwd`,
      `/media/${published}/hls/../video.mp4`,
      `/media/${published}/hls/../../secret.txt`,
      `/media/${published}/%2e%2e/%2e%2e/secret.txt`,
      `/media/${published}/..%2f..%2fsecret.txt`,
      `/media/${published}/%2E%2E%2Fsecret.txt`,
      `/media/${published}/hls%2f..%2f..%2fsecret.txt`,
      `/media/${published}/.secret`,
      `/media/${published}/hls/.secret`,
      `/media/${published}/%2esecret`,
      `/media/${published}/video.mp4%00`,
      `/media/${published}/video.mp4/`,
      `/media/${published}/VIDEO.MP4`,
      `/media/${published}//video.mp4`,
      `/media/${published}/./video.mp4`,
      `/media/${published.toLowerCase()}/video.mp4`,
      `/media/${published}%2fvideo.mp4`,
      '/media/.staging/video.mp4',
      '/media/secret.txt',
    ]) {
      const response = await rawGet(server.url, path);
      assert.equal(response.status, 404, path);
      assert.ok(!response.body.includes(SECRET), path);
    }
  });
});

describe('GET /media/ from an S3 media bucket (s3rver)', () => {
  let s3: S3ServerHandle;
  let storage: Storage;
  let server: TestServer;
  const published = ulid();
  const rejected = ulid();

  before(async () => {
    s3 = await startS3Server();
    storage = await openStorage(s3.storage);
    server = await startTestServer({ withChannel: false, env: { ...s3.env } });
    const uploads = await UploadStore.open(server.running.bus);
    await uploads.create(record(published, 'published'));
    await uploads.create(record(rejected, 'rejected'));
    for (const id of [published, rejected]) {
      await storage.media.put(`${id}/video.mp4`, MP4_BYTES, { contentType: 'video/mp4' });
      await storage.media.put(`${id}/hls/index.m3u8`, '#EXTM3U\n#EXT-X-ENDLIST\n');
    }
    // In the quarantine bucket only: never served, whatever the record says.
    await storage.quarantine.put(`${published}/poster.jpg`, SECRET);
  });
  after(async () => {
    await server?.close();
    await storage?.close();
    await s3?.stop();
  });

  it('serves the bucket objects with ranges, validators, types and a year of caching', async () => {
    const full = await server.request(`/media/${published}/video.mp4`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('content-type'), 'video/mp4');
    assert.equal(full.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(full.headers.get('accept-ranges'), 'bytes');
    assert.equal(full.headers.get('content-length'), String(MP4_BYTES.length));
    const etag = full.headers.get('etag');
    const lastModified = full.headers.get('last-modified');
    assert.equal(etag, (await storage.media.head(`${published}/video.mp4`))?.etag, 'the ETag of the bucket');
    assert.ok(lastModified);
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), MP4_BYTES);

    const range = await server.request(`/media/${published}/video.mp4`, { headers: { Range: 'bytes=1000-2999' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), `bytes 1000-2999/${MP4_BYTES.length}`);
    assert.equal(range.headers.get('content-length'), '2000');
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), MP4_BYTES.subarray(1000, 3000));

    const suffix = await server.request(`/media/${published}/video.mp4`, { headers: { Range: 'bytes=-10' } });
    assert.equal(suffix.status, 206);
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), MP4_BYTES.subarray(-10));

    const unsatisfiable = await server.request(`/media/${published}/video.mp4`, { headers: { Range: 'bytes=99999-' } });
    assert.equal(unsatisfiable.status, 416);
    assert.equal(unsatisfiable.headers.get('content-range'), `bytes */${MP4_BYTES.length}`);
    assert.equal(((await unsatisfiable.json()) as { error: { code: string } }).error.code, 'range_not_satisfiable');

    const playlist = await server.request(`/media/${published}/hls/index.m3u8`);
    assert.equal(playlist.headers.get('content-type'), 'application/vnd.apple.mpegurl', 'the type comes from the name, not the bucket');
    assert.equal(await playlist.text(), '#EXTM3U\n#EXT-X-ENDLIST\n');

    const head = await server.request(`/media/${published}/video.mp4`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(MP4_BYTES.length));
    assert.equal(head.headers.get('etag'), etag);
  });

  it('answers conditional requests: 304 on a match, the whole file when If-Range names another version, 412 on a failed If-Match', async () => {
    const path = `/media/${published}/video.mp4`;
    const etag = (await storage.media.head(`${published}/video.mp4`))!.etag;
    const byTag = await server.request(path, { headers: { 'If-None-Match': `"other", ${etag}` } });
    assert.equal(byTag.status, 304);
    assert.equal(await byTag.text(), '');
    assert.equal(byTag.headers.get('etag'), etag);
    assert.equal(byTag.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const byDate = await rawGet(server.url, path, { 'If-Modified-Since': new Date(Date.now() + 60_000).toUTCString() });
    assert.equal(byDate.status, 304);
    const changed = await rawGet(server.url, path, { 'If-None-Match': '"not-this-one"' });
    assert.equal(changed.status, 200);

    const sameVersion = await server.request(path, { headers: { Range: 'bytes=0-9', 'If-Range': etag } });
    assert.equal(sameVersion.status, 206);
    await sameVersion.arrayBuffer();
    const otherVersion = await server.request(path, { headers: { Range: 'bytes=0-9', 'If-Range': '"an-older-version"' } });
    assert.equal(otherVersion.status, 200);
    assert.equal((await otherVersion.arrayBuffer()).byteLength, MP4_BYTES.length);

    const ifMatch = await server.request(path, { headers: { 'If-Match': '"an-older-version"' } });
    assert.equal(ifMatch.status, 412);
    assert.equal(((await ifMatch.json()) as { error: { code: string } }).error.code, 'precondition_failed');
  });

  it('frees the connection to the store when a viewer goes away mid-download (more of them than the pool holds)', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 7);
    await storage.media.put(`${published}/hls/segment-042.ts`, big);
    const path = `/media/${published}/hls/segment-042.ts`;
    // The server keeps at most 512 connections to the store; a leaked one per aborted viewer would exhaust them.
    const viewers = 520;
    for (let started = 0; started < viewers; started += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const gone = new AbortController();
          const response = await server.request(path, { signal: gone.signal });
          assert.equal(response.status, 200);
          gone.abort();
          await response.arrayBuffer().catch(() => undefined);
        }),
      );
    }
    const startedAt = Date.now();
    const whole = await server.request(path, { signal: AbortSignal.timeout(10_000) });
    assert.equal(Buffer.from(await whole.arrayBuffer()).length, big.length);
    assert.ok(Date.now() - startedAt < 10_000, 'served at once, not after a leaked connection timed out');
  });

  it('answers 404 for an upload that is not published, a file not in the bucket, and anything only the quarantine holds', async () => {
    for (const path of [`/media/${rejected}/video.mp4`, `/media/${published}/poster.jpg`, `/media/${published}/hls/segment-000.ts`, `/media/${ulid()}/video.mp4`]) {
      const response = await rawGet(server.url, path);
      assert.equal(response.status, 404, path);
      assert.ok(!response.body.includes(SECRET), path);
    }
  });
});
