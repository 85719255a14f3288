import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { FilesystemObjectStore } from './filesystem-object-store.js';
import { objectStoreContract } from './object-store.contract.js';
import { openStorage, s3ClientConfigFor, StorageUnreachableError, type Storage } from './open-storage.js';
import { MIN_PART_BYTES, S3ObjectStore } from './s3-object-store.js';

let fsRoot: string;
objectStoreContract('file system', {
  open: async () => {
    fsRoot = await mkdtemp(join(tmpdir(), 'live-upload-fs-store-'));
    return new FilesystemObjectStore(fsRoot);
  },
  close: () => rm(fsRoot, { recursive: true, force: true }),
});

let s3: S3ServerHandle;
let s3Storage: Storage;
objectStoreContract('S3 (s3rver)', {
  open: async () => {
    s3 = await startS3Server();
    s3Storage = await openStorage(s3.storage);
    return s3Storage.media;
  },
  close: async () => {
    await s3Storage.close();
    await s3.stop();
  },
  racingOverwritesUnchecked: 's3rver writes objects in place (S3 makes each PUT atomic)',
});

describe('openStorage', () => {
  let server: S3ServerHandle;
  let dir: string;
  before(async () => {
    server = await startS3Server();
    dir = await mkdtemp(join(tmpdir(), 'live-upload-open-storage-'));
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('on the file system: creates both directories, and the two stores are separate', async () => {
    const storage = await openStorage({ kind: 'filesystem', quarantineDir: join(dir, 'q', 'uploads'), mediaDir: join(dir, 'media') });
    assert.ok((await stat(join(dir, 'q', 'uploads'))).isDirectory());
    assert.equal(storage.s3ClientConfig, undefined);
    await storage.quarantine.put('upload-1', 'quarantined');
    assert.equal(await storage.media.head('upload-1'), undefined);
    assert.equal(storage.media.location, `file://${join(dir, 'media')}`);
    await storage.close();
  });

  it('on the file system: removes writes and scratch a dead process left behind, and only old ones', async () => {
    const mediaDir = join(dir, 'abandoned-media');
    await mkdir(join(mediaDir, '.writing'), { recursive: true });
    await writeFile(join(mediaDir, '.writing', 'old.part'), 'left by a crash');
    await utimes(join(mediaDir, '.writing', 'old.part'), new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    await writeFile(join(mediaDir, '.writing', 'fresh.part'), 'another process is writing this');
    const scratchDir = join(mediaDir, '.staging');
    const hoursAgo = new Date(Date.now() - 2 * 3600_000);
    // A transcode killed with -9 two hours ago, and a download of that time.
    await mkdir(join(scratchDir, 'DEAD.01ABC', 'hls'), { recursive: true });
    await writeFile(join(scratchDir, 'DEAD.01ABC', 'hls', 'segment-000.ts'), 'x');
    for (const path of [join(scratchDir, 'DEAD.01ABC', 'hls', 'segment-000.ts'), join(scratchDir, 'DEAD.01ABC', 'hls'), join(scratchDir, 'DEAD.01ABC')]) await utimes(path, hoursAgo, hoursAgo);
    await mkdir(join(scratchDir, 'download-old'));
    await utimes(join(scratchDir, 'download-old'), hoursAgo, hoursAgo);
    // Another replica's transcode, running: an old directory whose files ffmpeg is writing now.
    await mkdir(join(scratchDir, 'LIVE.01DEF', 'hls'), { recursive: true });
    await writeFile(join(scratchDir, 'LIVE.01DEF', 'hls', 'segment-007.ts'), 'x');
    await utimes(join(scratchDir, 'LIVE.01DEF'), hoursAgo, hoursAgo);
    const storage = await openStorage({ kind: 'filesystem', quarantineDir: join(dir, 'abandoned-quarantine'), mediaDir }, { scratchDir });
    assert.deepEqual(await readdir(join(mediaDir, '.writing')), ['fresh.part']);
    assert.deepEqual(await readdir(scratchDir), ['LIVE.01DEF']);
    await storage.close();
  });

  it('on S3: two stores on two buckets, a client config for other S3 clients, and multipart uploads', async () => {
    const storage = await openStorage(server.storage, { scratchDir: join(dir, 'scratch') });
    try {
      assert.equal(storage.quarantine.location, `s3://${server.quarantineBucket}/`);
      assert.equal(storage.media.location, `s3://${server.mediaBucket}/`);
      assert.deepEqual(
        { endpoint: storage.s3ClientConfig?.endpoint, region: storage.s3ClientConfig?.region, forcePathStyle: storage.s3ClientConfig?.forcePathStyle },
        { endpoint: server.endpoint, region: server.region, forcePathStyle: true },
      );
      assert.equal(JSON.stringify(storage.s3ClientConfig).includes('S3RVER'), false, 'no credentials in the config');
      await storage.quarantine.put('upload-1', 'quarantined');
      assert.equal(await storage.media.head('upload-1'), undefined, 'the quarantine is not the media');

      const object = await storage.media.put('u/video.mp4', randomBytes(100_000), { contentType: 'video/mp4' });
      assert.equal(object.contentType, 'video/mp4');
      assert.equal((await storage.media.head('u/video.mp4'))?.contentType, 'video/mp4');
      const local = await storage.media.localFile('u/video.mp4');
      assert.ok(local);
      assert.ok(local.path.startsWith(join(dir, 'scratch') + '/'), 'downloaded into the scratch dir');
      assert.equal((await stat(local.path)).size, object.size);
      await local.release();
      await assert.rejects(stat(local.path), /ENOENT/, 'the download is gone');
    } finally {
      await storage.close();
    }
  });

  it('on S3: a file larger than a part goes up as a multipart upload, in parts of the size asked for', async () => {
    const client = new S3Client(s3ClientConfigFor(server.storage));
    const commands: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    try {
      const store = new S3ObjectStore({ client, bucket: server.mediaBucket, partBytes: MIN_PART_BYTES });
      const bytes = randomBytes(2 * MIN_PART_BYTES + 1000);
      const path = join(dir, 'three-parts.bin');
      await writeFile(path, bytes);
      const object = await store.putFile('multipart/video.mp4', path, { contentType: 'video/mp4' });
      assert.deepEqual(commands.filter((command) => command !== 'HeadObjectCommand'), [
        'CreateMultipartUploadCommand',
        'UploadPartCommand',
        'UploadPartCommand',
        'UploadPartCommand',
        'CompleteMultipartUploadCommand',
      ]);
      assert.equal(object.size, bytes.length);
      assert.equal(object.contentType, 'video/mp4');
    } finally {
      client.destroy();
    }
  });

  it('on S3: a start with a missing bucket fails naming it', async () => {
    await assert.rejects(openStorage({ ...server.storage, mediaBucket: 'no-such-media-bucket' }), (error: unknown) => {
      assert.ok(error instanceof StorageUnreachableError);
      assert.equal(error.bucket, 'no-such-media-bucket');
      assert.match(error.message, /media bucket "no-such-media-bucket" is not reachable: no such bucket/);
      return true;
    });
  });

  it('on S3: an endpoint nobody listens on fails naming the bucket', async () => {
    const storage = { ...server.storage, endpoint: 'http://127.0.0.1:9' };
    await assert.rejects(openStorage(storage), (error: unknown) => {
      assert.ok(error instanceof StorageUnreachableError);
      assert.match(error.message, new RegExp(`quarantine bucket "${server.quarantineBucket}" is not reachable`));
      return true;
    });
  });
});
