import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ulid } from 'ulid';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { AUDIT_ACTIONS, AuditLog, auditRecordSchema, type AuditRecord } from '../audit/index.js';
import { STREAMS, createMemoryBus, createNatsBus, decodeJson, type Bus } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { FilesystemObjectStore, openStorage, type ObjectStore, type Storage } from '../storage/index.js';
import { QuarantinedUploads, UploadStore, type UploadRecord, type UploadStatus } from '../uploads/index.js';
import { LifecycleSweeper, QUARANTINE_DELETION_REASONS, quarantineExpiry } from './lifecycle-sweeper.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';

const HOUR_MS = 60 * 60 * 1000;
const TTL_MS = 72 * HOUR_MS;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');

function record(status: UploadStatus, createdMs: number, updatedMs = createdMs): UploadRecord {
  return uploadRecordFixture({ status, updated_at: new Date(updatedMs).toISOString() }, createdMs);
}

describe('quarantineExpiry', () => {
  it('keeps published uploads, ages rejected ones from the rejection and the rest from creation', () => {
    assert.equal(quarantineExpiry(record('published', T0), T0, TTL_MS), undefined);
    assert.deepEqual(quarantineExpiry(record('rejected', T0, T0 + HOUR_MS), T0, TTL_MS), { atMs: T0 + HOUR_MS + TTL_MS, reason: 'rejected retention' });
    for (const status of ['uploading', 'checking', 'in_review', 'approved', 'deleted'] as const) {
      assert.deepEqual(quarantineExpiry(record(status, T0, T0 + HOUR_MS), T0, TTL_MS), { atMs: T0 + TTL_MS, reason: 'ttl expired' }, status);
    }
    assert.deepEqual(quarantineExpiry(undefined, T0 + 5, TTL_MS), { atMs: T0 + 5 + TTL_MS, reason: 'orphaned' }, 'a file without a record ages from its last write');
    assert.deepEqual(quarantineExpiry(undefined, T0 + 5, TTL_MS, HOUR_MS), { atMs: T0 + 5 + HOUR_MS, reason: 'orphaned' }, 'an orphan goes after the incomplete-upload TTL');
  });
});

/** A quarantine store for one suite: a fresh directory, or the quarantine bucket of a real S3 server (s3rver). */
interface StoreUnderTest {
  readonly name: string;
  /** The tus side object each store's uploads have beside their bytes. */
  readonly sideSuffix: string;
  open(): Promise<{ store: ObjectStore; close(): Promise<void> }>;
}

const STORES: readonly StoreUnderTest[] = [
  {
    name: 'file system',
    sideSuffix: '.json',
    open: async () => {
      const directory = await mkdtemp(join(tmpdir(), 'live-upload-sweep-'));
      return { store: new FilesystemObjectStore(directory), close: () => rm(directory, { recursive: true, force: true }) };
    },
  },
  {
    name: 'S3',
    sideSuffix: '.info',
    open: async () => {
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
  },
];

for (const storeUnderTest of STORES) {
  describeEachBus(`lifecycle sweeper on the ${storeUnderTest.name} quarantine`, (busUnderTest) => {
    let bus: Bus;
    let store: ObjectStore;
    let quarantine: QuarantinedUploads;
    let closeStore: () => Promise<void>;
    let clockMs = T0;
    const now = () => clockMs;
    const { sideSuffix } = storeUnderTest;

    before(async () => {
      const natsUrl = busUnderTest.natsUrl();
      bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'lifecycle-test' }) : createMemoryBus();
      await bus.ensureStreams(Object.values(STREAMS));
      const opened = await storeUnderTest.open();
      store = opened.store;
      closeStore = opened.close;
      quarantine = new QuarantinedUploads(store);
    });
    after(async () => {
      await bus.close();
      await closeStore();
    });

    const exists = async (key: string) => (await store.head(key)) !== undefined;
    const auditOf = async (uploadId: string): Promise<AuditRecord[]> =>
      (await bus.readLatest(STREAMS.audit.name, { limit: 500 }))
        .map((message) => decodeJson(message.data, auditRecordSchema))
        .filter((entry) => entry.target === uploadId);

    it('deletes an expired quarantined upload and a rejected one past retention, audits both, and leaves fresh and published ones', async () => {
      const uploads = await UploadStore.open(bus, now);
      const sweeper = new LifecycleSweeper({ uploads, audit: new AuditLog(bus, now), logger: createLogger({ level: 'silent' }), quarantine, ttlMs: TTL_MS, intervalMs: 60_000, now });
      const expired = record('in_review', T0);
      const rejectedLongAgo = record('rejected', T0, T0 + HOUR_MS);
      const fresh = record('checking', T0 + 73 * HOUR_MS);
      const rejectedRecently = record('rejected', T0, T0 + 73 * HOUR_MS);
      const published = record('published', T0);
      const all = [expired, rejectedLongAgo, fresh, rejectedRecently, published];
      for (const upload of all) {
        await uploads.create(upload);
        await store.put(upload.upload_id, 'bytes');
        await store.put(`${upload.upload_id}${sideSuffix}`, '{}');
      }

      clockMs = T0 + 74 * HOUR_MS;
      const deleted = await sweeper.sweep();
      assert.deepEqual(
        deleted.map((deletion) => deletion.uploadId).sort(),
        [expired.upload_id, rejectedLongAgo.upload_id].sort(),
      );

      for (const [upload, reason] of [
        [expired, QUARANTINE_DELETION_REASONS.ttlExpired],
        [rejectedLongAgo, QUARANTINE_DELETION_REASONS.rejectedRetention],
      ] as const) {
        assert.equal((await uploads.get(upload.upload_id))?.status, 'deleted');
        assert.equal(await exists(upload.upload_id), false);
        assert.equal(await exists(`${upload.upload_id}${sideSuffix}`), false);
        const audit = await auditOf(upload.upload_id);
        assert.equal(audit.length, 1);
        assert.equal(audit[0]?.action, AUDIT_ACTIONS.quarantineDeleted);
        assert.equal(audit[0]?.reason, reason);
        assert.equal(audit[0]?.actor, 'lifecycle');
      }
      for (const upload of [fresh, rejectedRecently, published]) {
        assert.equal((await uploads.get(upload.upload_id))?.status, upload.status);
        assert.equal(await exists(upload.upload_id), true);
        assert.deepEqual(await auditOf(upload.upload_id), []);
      }

      assert.deepEqual(await sweeper.sweep(), [], 'a second sweep finds nothing');
      assert.equal((await auditOf(expired.upload_id)).length, 1, 'and audits nothing twice');

      clockMs = T0 + 200 * HOUR_MS;
      const later = await sweeper.sweep();
      assert.deepEqual(later.map((deletion) => deletion.uploadId).sort(), [fresh.upload_id, rejectedRecently.upload_id].sort());
      assert.equal(await exists(published.upload_id), true, "published files are the promotion worker's");
    });

    it('finishes a deletion a crash interrupted: a deleted record whose file is still there', async () => {
      const uploads = await UploadStore.open(bus, now);
      const sweeper = new LifecycleSweeper({ uploads, audit: new AuditLog(bus, now), logger: createLogger({ level: 'silent' }), quarantine, ttlMs: TTL_MS, intervalMs: 60_000, now });
      // The orphan ages from its real last write, so the clock moves past that.
      clockMs = Date.now() + TTL_MS + HOUR_MS;
      const orphan = ulid(T0);
      const halfDeleted = record('deleted', T0);
      await uploads.create(halfDeleted);
      await store.put(halfDeleted.upload_id, 'bytes');
      // An incomplete upload on S3 has no bytes object yet, only its tus side objects: an orphan all the same.
      await store.put(`${orphan}${sideSuffix}`, '{}');
      await store.put('not-an-upload.txt', 'left alone');
      const deleted = await sweeper.sweep();
      assert.deepEqual(deleted.map((deletion) => deletion.uploadId).sort(), [halfDeleted.upload_id, orphan].sort());
      assert.equal(deleted.find((deletion) => deletion.uploadId === orphan)?.reason, 'orphaned');
      assert.deepEqual((await auditOf(orphan)).map((entry) => [entry.action, entry.actor, entry.reason]), [['quarantine.deleted', 'lifecycle', 'orphaned']], 'the orphan deletion is audited');
      assert.equal(await exists(halfDeleted.upload_id), false);
      assert.equal(await exists(`${orphan}${sideSuffix}`), false);
      assert.equal(await exists('not-an-upload.txt'), true);
      await store.delete('not-an-upload.txt');
    });
  });
}
