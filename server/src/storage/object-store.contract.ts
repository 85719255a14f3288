import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RangeNotSatisfiableError, type ObjectRead, type ObjectStore, type StoredObject } from './object-store.js';

/** Per test: a broken implementation fails instead of hanging the run. */
const TEST_TIMEOUT_MS = 60_000;

/** More keys than one S3 list page (1,000), so `list` has to follow the continuation. */
const MANY_KEYS = 1_010;

/** The store under test, opened once for the suite; each test works under a prefix of its own. */
export interface ObjectStoreUnderTest {
  open(): Promise<ObjectStore>;
  close(): Promise<void>;
  /**
   * Why racing overwrites of one key cannot be checked on this backend, when the server behind
   * it does not make a write atomic (s3rver writes in place; S3 and our file store do not).
   */
  readonly racingOverwritesUnchecked?: string;
}

async function bytesOf(read: ObjectRead | undefined): Promise<Buffer> {
  assert.ok(read, 'the object is there');
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function collect(iterable: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const found: StoredObject[] = [];
  for await (const object of iterable) found.push(object);
  return found;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let prefixCounter = 0;

/**
 * What every `ObjectStore` must do, run on each implementation (the file system, S3 on a real
 * S3-compatible server): the quarantine, the media and the transcode rely on exactly this.
 */
export function objectStoreContract(name: string, underTest: ObjectStoreUnderTest): void {
  describe(`ObjectStore contract: ${name}`, { timeout: TEST_TIMEOUT_MS }, () => {
    let store: ObjectStore;
    let scratch: string;
    /** A prefix no other test uses. */
    const fresh = () => `t${process.pid.toString(36)}${Date.now().toString(36)}${(prefixCounter++).toString(36)}/`;

    before(async () => {
      store = await underTest.open();
      scratch = await mkdtemp(join(tmpdir(), 'live-upload-store-contract-'));
    });
    after(async () => {
      await underTest.close();
      await rm(scratch, { recursive: true, force: true });
    });

    it('stores buffers, strings and streams and gives the same bytes back, with size, ETag and date', async () => {
      const prefix = fresh();
      const bytes = randomBytes(70_000);
      const before = Date.now();
      const put = await store.put(`${prefix}buffer.bin`, bytes, { contentType: 'application/octet-stream' });
      assert.equal(put.key, `${prefix}buffer.bin`);
      assert.equal(put.size, bytes.length);
      assert.match(put.etag, /^"[^"]+"$/);
      assert.ok(Math.abs(put.lastModifiedMs - before) < 60_000, 'a plausible modification date');
      assert.deepEqual(await store.head(`${prefix}buffer.bin`), put);

      const read = await store.get(`${prefix}buffer.bin`);
      assert.deepEqual(read?.range, { start: 0, end: bytes.length - 1 });
      assert.equal(read?.object.etag, put.etag);
      assert.equal(read?.object.size, bytes.length);
      assert.deepEqual(await bytesOf(read), bytes);

      await store.put(`${prefix}text.txt`, 'héllo, wörld');
      assert.equal((await bytesOf(await store.get(`${prefix}text.txt`))).toString('utf8'), 'héllo, wörld');

      const streamed = randomBytes(300_000);
      const object = await store.put(`${prefix}deep/er/stream.bin`, Readable.from([streamed.subarray(0, 1000), streamed.subarray(1000)]));
      assert.equal(object.size, streamed.length);
      assert.deepEqual(await bytesOf(await store.get(`${prefix}deep/er/stream.bin`)), streamed);

      await store.put(`${prefix}empty`, Buffer.alloc(0));
      assert.equal((await store.head(`${prefix}empty`))?.size, 0);
      assert.equal((await bytesOf(await store.get(`${prefix}empty`))).length, 0);
    });

    it('answers undefined and false for what is not there', async () => {
      const prefix = fresh();
      assert.equal(await store.head(`${prefix}missing`), undefined);
      assert.equal(await store.get(`${prefix}missing`), undefined);
      assert.equal(await store.get(`${prefix}missing`, { start: 0, end: 10 }), undefined);
      assert.equal(await store.localFile(`${prefix}missing`), undefined);
      assert.equal(await store.delete(`${prefix}missing`), false);
      assert.equal(await store.deletePrefix(prefix), 0);
      assert.deepEqual(await collect(store.list(prefix)), []);
      // A "directory" of other keys is not an object.
      await store.put(`${prefix}dir/inside`, 'x');
      assert.equal(await store.head(`${prefix}dir`), undefined);
      assert.equal(await store.get(`${prefix}dir`), undefined);
      assert.equal(await store.delete(`${prefix}dir`), false);
      assert.equal((await store.head(`${prefix}dir/inside`))?.size, 1);
    });

    it('reads inclusive ranges, cuts a range at the end, and refuses one that starts past it', async () => {
      const prefix = fresh();
      const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
      await store.put(`${prefix}video.mp4`, bytes);

      const middle = await store.get(`${prefix}video.mp4`, { start: 100, end: 299 });
      assert.deepEqual(middle?.range, { start: 100, end: 299 });
      assert.equal(middle?.object.size, bytes.length, 'the size is the whole object');
      assert.deepEqual(await bytesOf(middle), bytes.subarray(100, 300));

      const one = await store.get(`${prefix}video.mp4`, { start: 4095, end: 4095 });
      assert.deepEqual(await bytesOf(one), bytes.subarray(4095));

      const pastEnd = await store.get(`${prefix}video.mp4`, { start: 4000, end: 99_999 });
      assert.deepEqual(pastEnd?.range, { start: 4000, end: 4095 });
      assert.deepEqual(await bytesOf(pastEnd), bytes.subarray(4000));

      await assert.rejects(store.get(`${prefix}video.mp4`, { start: 4096, end: 5000 }), (error: unknown) => {
        assert.ok(error instanceof RangeNotSatisfiableError);
        assert.equal(error.size, bytes.length);
        return true;
      });
    });

    it('keeps the ETag while the content stays, and changes it with the content', async () => {
      const prefix = fresh();
      const first = await store.put(`${prefix}poster.jpg`, 'first version');
      assert.equal((await store.head(`${prefix}poster.jpg`))?.etag, first.etag);
      assert.equal((await store.head(`${prefix}poster.jpg`))?.etag, first.etag, 'asked twice, the same');
      const read = await store.get(`${prefix}poster.jpg`, { start: 0, end: 4 });
      await bytesOf(read);
      assert.equal(read?.object.etag, first.etag, 'a ranged read names the same validator');
      const second = await store.put(`${prefix}poster.jpg`, 'second version, longer');
      assert.notEqual(second.etag, first.etag);
      assert.equal((await store.head(`${prefix}poster.jpg`))?.etag, second.etag);
      assert.equal((await bytesOf(await store.get(`${prefix}poster.jpg`))).toString(), 'second version, longer');
    });

    it('lists the keys under a prefix in key order, and only those', async () => {
      const prefix = fresh();
      // No key with a character below '/' next to a "directory": s3rver lists those after it (by walk), S3 before (by bytes).
      const keys = ['b', 'a/2', 'a/10', 'a/1', 'ab', 'a_b', 'A', 'hls/segment-001.ts', 'hls/index.m3u8', 'hls/segment-000.ts'];
      for (const key of keys) await store.put(`${prefix}${key}`, key);
      const all = await collect(store.list(prefix));
      assert.deepEqual(
        all.map((object) => object.key),
        keys.map((key) => `${prefix}${key}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      for (const object of all) {
        assert.equal(object.size, object.key.length - prefix.length);
        assert.match(object.etag, /^"[^"]+"$/);
      }
      assert.deepEqual((await collect(store.list(`${prefix}a/`))).map((object) => object.key), [`${prefix}a/1`, `${prefix}a/10`, `${prefix}a/2`]);
      assert.deepEqual(
        (await collect(store.list(`${prefix}hls/`))).map((object) => object.key.slice(prefix.length)),
        ['hls/index.m3u8', 'hls/segment-000.ts', 'hls/segment-001.ts'],
      );
      assert.deepEqual(await collect(store.list(`${prefix}nothing/`)), []);
    });

    it(`lists ${MANY_KEYS} keys (more than one page) completely and in order, and deletes them by prefix`, async () => {
      const prefix = fresh();
      const keys = Array.from({ length: MANY_KEYS }, (_, i) => `${prefix}many/${i.toString().padStart(5, '0')}`);
      const pending = [...keys];
      // Sixteen writers at once: fast enough on a real server, and some concurrency for free.
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let key = pending.shift(); key !== undefined; key = pending.shift()) await store.put(key, 'x');
      }));
      await store.put(`${prefix}kept`, 'kept');
      const listed = (await collect(store.list(`${prefix}many/`))).map((object) => object.key);
      assert.equal(listed.length, MANY_KEYS);
      assert.deepEqual(listed, keys);
      assert.equal(await store.deletePrefix(`${prefix}many/`), MANY_KEYS);
      assert.deepEqual(await collect(store.list(`${prefix}many/`)), []);
      assert.deepEqual((await collect(store.list(prefix))).map((object) => object.key), [`${prefix}kept`]);
    });

    it('deletes one key, or every key under a prefix, and nothing else', async () => {
      const prefix = fresh();
      for (const key of ['u1/video.mp4', 'u1/hls/index.m3u8', 'u1/hls/segment-000.ts', 'u10/video.mp4', 'u2/video.mp4']) await store.put(`${prefix}${key}`, key);
      assert.equal(await store.delete(`${prefix}u2/video.mp4`), true);
      assert.equal(await store.delete(`${prefix}u2/video.mp4`), false);
      assert.equal(await store.head(`${prefix}u2/video.mp4`), undefined);
      assert.equal(await store.deletePrefix(`${prefix}u1/`), 3);
      assert.deepEqual((await collect(store.list(prefix))).map((object) => object.key), [`${prefix}u10/video.mp4`]);
      // Writing under a prefix that was just emptied works.
      await store.put(`${prefix}u1/hls/index.m3u8`, 'again');
      assert.equal((await bytesOf(await store.get(`${prefix}u1/hls/index.m3u8`))).toString(), 'again');
    });

    it('stores a file larger than one upload part whole (multipart where the backend has it)', async () => {
      const prefix = fresh();
      const bytes = randomBytes(11 * 1024 * 1024 + 12_345);
      const path = join(scratch, 'large.bin');
      await writeFile(path, bytes);
      const object = await store.putFile(`${prefix}video.mp4`, path, { contentType: 'video/mp4' });
      assert.equal(object.size, bytes.length);
      assert.equal((await stat(path)).size, bytes.length, 'the source file is left as it was');
      assert.equal(sha256(await bytesOf(await store.get(`${prefix}video.mp4`))), sha256(bytes));
      // Across the boundary of the first two 5 MiB parts.
      const boundary = 5 * 1024 * 1024;
      const across = await store.get(`${prefix}video.mp4`, { start: boundary - 10, end: boundary + 9 });
      assert.deepEqual(await bytesOf(across), bytes.subarray(boundary - 10, boundary + 10));
    });

    it('hands an object to tools as a local file, and release() cleans up only what it downloaded', async () => {
      const prefix = fresh();
      const bytes = randomBytes(50_000);
      await store.put(`${prefix}upload`, bytes);
      const local = await store.localFile(`${prefix}upload`);
      assert.ok(local);
      assert.deepEqual(await readFile(local.path), bytes);
      await local.release();
      await local.release();
      assert.deepEqual(await bytesOf(await store.get(`${prefix}upload`)), bytes, 'the object itself stays');
    });

    it('refuses keys and prefixes our code could not have made: traversal, absolute, empty, encoded, hidden', async () => {
      const hostileKeys = ['', '..', '.', '../x', 'a/../b', '/etc/passwd', 'a//b', 'a/', '/', '%2e%2e', '%2e%2e/x', '.hidden', 'a/.hidden', 'a\\b', 'a\0b', 'a b', 'x'.repeat(600)];
      for (const key of hostileKeys) {
        const label = JSON.stringify(key);
        await assert.rejects(store.put(key, 'x'), RangeError, `put ${label}`);
        await assert.rejects(store.putFile(key, join(scratch, 'nothing')), RangeError, `putFile ${label}`);
        await assert.rejects(store.head(key), RangeError, `head ${label}`);
        await assert.rejects(store.get(key), RangeError, `get ${label}`);
        await assert.rejects(store.delete(key), RangeError, `delete ${label}`);
        await assert.rejects(store.localFile(key), RangeError, `localFile ${label}`);
      }
      for (const prefix of ['a', '../', '/', '//', 'a//', '%2e%2e/', '.hidden/', 'a/../']) {
        await assert.rejects(store.deletePrefix(prefix), RangeError, `deletePrefix ${JSON.stringify(prefix)}`);
        await assert.rejects(collect(store.list(prefix)), RangeError, `list ${JSON.stringify(prefix)}`);
      }
    });

    it('leaves one complete object when writers race on a key; readers never see a partial one', { skip: underTest.racingOverwritesUnchecked ?? false }, async () => {
      const prefix = fresh();
      const key = `${prefix}raced.bin`;
      const size = 512 * 1024;
      const versions = Array.from({ length: 6 }, (_, i) => Buffer.alloc(size, 0x41 + i));
      await store.put(key, versions[0]!);
      let writing = true;
      const reads: Buffer[] = [];
      const reader = (async () => {
        while (writing) reads.push(await bytesOf(await store.get(key)));
      })();
      await Promise.all(versions.map((version, i) => (i % 2 === 0 ? store.put(key, version) : store.put(key, Readable.from([version.subarray(0, 1000), version.subarray(1000)])))));
      writing = false;
      await reader;
      const final = await bytesOf(await store.get(key));
      const whole = (bytes: Buffer) => bytes.length === size && bytes.every((byte) => byte === bytes[0]);
      assert.ok(whole(final), 'the final object is one whole version');
      assert.ok(reads.length > 0);
      for (const read of reads) assert.ok(whole(read), 'every read saw one whole version');
      assert.equal((await store.head(key))?.size, size);
    });
  });
}
