import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ulid } from 'ulid';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { FilesystemObjectStore, openStorage, type ObjectStore, type Storage } from '../storage/index.js';
import { OUTPUT_COMPLETE_MARKER, hasCompleteOutput, removeOutput, storeOutput } from './published-media-output.js';

const PLAYLIST = '#EXTM3U\nsegment-000.ts\nsegment-001.ts\n';

/** A transcode's output directory as ffmpeg leaves it. */
async function transcodeOutput(directory: string): Promise<void> {
  await mkdir(join(directory, 'hls'), { recursive: true });
  await writeFile(join(directory, 'video.mp4'), Buffer.alloc(3000, 1));
  await writeFile(join(directory, 'poster.jpg'), Buffer.from([0xff, 0xd8, 0xff]));
  await writeFile(join(directory, 'hls', 'index.m3u8'), PLAYLIST);
  await writeFile(join(directory, 'hls', 'segment-000.ts'), Buffer.alloc(188, 0x47));
  await writeFile(join(directory, 'hls', 'segment-001.ts'), Buffer.alloc(376, 0x47));
}

async function keysOf(media: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of media.list(prefix)) keys.push(object.key.slice(prefix.length));
  return keys;
}

/** `keepsContentTypes`: whether the backend stores a type with each object (S3 does, files do not). */
function outputSuite(name: string, keepsContentTypes: boolean, open: () => Promise<{ media: ObjectStore; close: () => Promise<void> }>): void {
  describe(`published media output (${name})`, () => {
    let media: ObjectStore;
    let close: () => Promise<void>;
    let scratch: string;
    before(async () => {
      ({ media, close } = await open());
      scratch = await mkdtemp(join(tmpdir(), 'live-upload-output-'));
    });
    after(async () => {
      await close();
      await rm(scratch, { recursive: true, force: true });
    });

    it('stores every file under {upload_id}/ with its type, then the completion marker', async () => {
      const uploadId = ulid();
      const directory = join(scratch, uploadId);
      await transcodeOutput(directory);
      assert.equal(await hasCompleteOutput(media, uploadId), false);
      const stored = await storeOutput(media, uploadId, directory);
      assert.equal(stored.length, 5);
      assert.deepEqual(await keysOf(media, `${uploadId}/`), [
        'hls/index.m3u8',
        'hls/segment-000.ts',
        'hls/segment-001.ts',
        OUTPUT_COMPLETE_MARKER,
        'poster.jpg',
        'video.mp4',
      ]);
      assert.equal(await hasCompleteOutput(media, uploadId), true);
      const marker = JSON.parse((await readAll(media, `${uploadId}/${OUTPUT_COMPLETE_MARKER}`)).toString()) as { upload_id: string; files: Array<{ key: string; size: number }> };
      assert.equal(marker.upload_id, uploadId);
      assert.deepEqual(
        marker.files.map((file) => [file.key, file.size]),
        [
          [`${uploadId}/hls/index.m3u8`, PLAYLIST.length],
          [`${uploadId}/hls/segment-000.ts`, 188],
          [`${uploadId}/hls/segment-001.ts`, 376],
          [`${uploadId}/poster.jpg`, 3],
          [`${uploadId}/video.mp4`, 3000],
        ],
      );
      assert.deepEqual(await readAll(media, `${uploadId}/video.mp4`), await readFile(join(directory, 'video.mp4')));
      if (keepsContentTypes) {
        assert.equal((await media.head(`${uploadId}/video.mp4`))?.contentType, 'video/mp4');
        assert.equal((await media.head(`${uploadId}/hls/index.m3u8`))?.contentType, 'application/vnd.apple.mpegurl');
        assert.equal((await media.head(`${uploadId}/hls/segment-001.ts`))?.contentType, 'video/mp2t');
        assert.equal((await media.head(`${uploadId}/${OUTPUT_COMPLETE_MARKER}`))?.contentType, 'application/json');
      }
    });

    it('overwrites a half-written output (no marker) whole, and removes an output marker first', async () => {
      const uploadId = ulid();
      await media.put(`${uploadId}/video.mp4`, 'a half-sent file from a delivery that died');
      assert.equal(await hasCompleteOutput(media, uploadId), false, 'no marker: not complete');
      const directory = join(scratch, uploadId);
      await transcodeOutput(directory);
      await storeOutput(media, uploadId, directory);
      assert.equal((await media.head(`${uploadId}/video.mp4`))?.size, 3000);

      const neighbour = ulid();
      await media.put(`${neighbour}/video.mp4`, 'another upload');
      assert.equal(await removeOutput(media, uploadId), 5);
      assert.equal(await hasCompleteOutput(media, uploadId), false);
      assert.deepEqual(await keysOf(media, `${uploadId}/`), []);
      assert.deepEqual(await keysOf(media, `${neighbour}/`), ['video.mp4'], 'other uploads stay');
    });
  });
}

async function readAll(media: ObjectStore, key: string): Promise<Buffer> {
  const read = await media.get(key);
  assert.ok(read, key);
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

outputSuite('file system', false, async () => {
  const root = await mkdtemp(join(tmpdir(), 'live-upload-output-media-'));
  return { media: new FilesystemObjectStore(root), close: () => rm(root, { recursive: true, force: true }) };
});

outputSuite('S3 (s3rver)', true, async () => {
  const s3: S3ServerHandle = await startS3Server();
  const storage: Storage = await openStorage(s3.storage);
  return {
    media: storage.media,
    close: async () => {
      await storage.close();
      await s3.stop();
    },
  };
});
