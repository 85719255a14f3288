import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ulid } from 'ulid';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { FilesystemObjectStore, openStorage, type ObjectStore, type Storage } from '../storage/index.js';
import { QuarantinedUploads } from './quarantined-uploads.js';

const STORES = {
  'file system': async (): Promise<{ store: ObjectStore; close(): Promise<void> }> => {
    const directory = await mkdtemp(join(tmpdir(), 'live-upload-quarantined-'));
    return { store: new FilesystemObjectStore(directory), close: () => rm(directory, { recursive: true, force: true }) };
  },
  S3: async (): Promise<{ store: ObjectStore; close(): Promise<void> }> => {
    const s3: S3ServerHandle = await startS3Server();
    const storage: Storage = await openStorage(s3.storage);
    return {
      store: storage.quarantine,
      close: async () => {
        await storage.close();
        await s3.stop();
      },
    };
  },
};

for (const [name, open] of Object.entries(STORES)) {
  describe(`QuarantinedUploads on the ${name} store`, () => {
    let store: ObjectStore;
    let close: () => Promise<void>;
    let quarantine: QuarantinedUploads;
    before(async () => {
      ({ store, close } = await open());
      quarantine = new QuarantinedUploads(store);
    });
    after(() => close());

    it('lists each upload once, from its bytes or its tus side objects, with its newest write; other objects are skipped', async () => {
      const complete = ulid();
      const incomplete = ulid();
      await store.put(complete, 'bytes');
      await store.put(`${complete}.json`, '{}');
      await store.put(`${incomplete}.info`, '{}');
      await store.put(`${incomplete}.part`, 'tail');
      await store.put(`${ulid()}.unknown`, 'not ours');
      await store.put('readme.txt', 'not an upload');
      const stored = [];
      for await (const entry of quarantine.stored()) stored.push(entry);
      assert.deepEqual(stored.map((entry) => entry.uploadId).sort(), [complete, incomplete].sort());
      for (const entry of stored) assert.equal(entry.lastWrittenMs, await quarantine.lastWrittenMs(entry.uploadId));
      const bytes = await quarantine.read(complete);
      assert.equal(bytes?.object.size, 5);
      bytes?.body.destroy();
      assert.equal(await quarantine.read(incomplete), undefined, 'an incomplete S3 upload has no bytes object yet');
    });

    it('deletes the bytes, every tus side object and the evidence of the checks, and says whether the bytes were there', async () => {
      const uploadId = ulid();
      const other = ulid();
      for (const key of [uploadId, `${uploadId}.json`, `${uploadId}.info`, `${uploadId}.part`, `evidence/${uploadId}/faces-1500.jpg`, `evidence/${other}/faces-0.jpg`]) {
        await store.put(key, 'x');
      }
      assert.equal(await quarantine.delete(uploadId), true);
      assert.equal(await quarantine.lastWrittenMs(uploadId), undefined);
      assert.equal(await store.head(`evidence/${uploadId}/faces-1500.jpg`), undefined, 'its evidence went with it');
      assert.ok(await store.head(`evidence/${other}/faces-0.jpg`), "another upload's evidence stays");
      assert.equal(await quarantine.delete(uploadId), false);
    });

    it('reads a range and makes a local file of the bytes, released after use', async () => {
      const uploadId = ulid();
      await store.put(uploadId, '0123456789');
      const read = await quarantine.read(uploadId, { start: 2, end: 5 });
      const chunks: Buffer[] = [];
      for await (const chunk of read!.body) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), '2345');
      const local = await quarantine.localFile(uploadId);
      assert.ok(local);
      await local.release();
      assert.equal(await quarantine.localFile(ulid()), undefined);
    });

    it('refuses anything but an upload id as a key', async () => {
      await assert.rejects(quarantine.lastWrittenMs('../etc/passwd'), RangeError);
      assert.throws(() => quarantine.read('not-an-id'), RangeError);
    });
  });
}
