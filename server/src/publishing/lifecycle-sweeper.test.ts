import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ulid } from 'ulid';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { AUDIT_ACTIONS, AuditLog, auditRecordSchema, type AuditRecord } from '../audit/index.js';
import { STREAMS, createMemoryBus, createNatsBus, decodeJson, type Bus } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { UploadStore, type UploadRecord, type UploadStatus } from '../uploads/index.js';
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

describeEachBus('lifecycle sweeper', (busUnderTest) => {
  let bus: Bus;
  let quarantineDir: string;
  let clockMs = T0;
  const now = () => clockMs;

  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    bus = natsUrl ? await createNatsBus({ url: natsUrl, name: 'lifecycle-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    quarantineDir = await mkdtemp(join(tmpdir(), 'live-upload-sweep-'));
  });
  after(async () => {
    await bus.close();
    await rm(quarantineDir, { recursive: true, force: true });
  });

  const exists = (path: string) => stat(path).then(() => true, () => false);
  const auditOf = async (uploadId: string): Promise<AuditRecord[]> =>
    (await bus.readLatest(STREAMS.audit.name, { limit: 500 }))
      .map((message) => decodeJson(message.data, auditRecordSchema))
      .filter((entry) => entry.target === uploadId);

  it('deletes an expired quarantined upload and a rejected one past retention, audits both, and leaves fresh and published ones', async () => {
    const uploads = await UploadStore.open(bus, now);
    const sweeper = new LifecycleSweeper({ uploads, audit: new AuditLog(bus, now), logger: createLogger({ level: 'silent' }), quarantineDir, ttlMs: TTL_MS, intervalMs: 60_000, now });
    const expired = record('in_review', T0);
    const rejectedLongAgo = record('rejected', T0, T0 + HOUR_MS);
    const fresh = record('checking', T0 + 73 * HOUR_MS);
    const rejectedRecently = record('rejected', T0, T0 + 73 * HOUR_MS);
    const published = record('published', T0);
    const all = [expired, rejectedLongAgo, fresh, rejectedRecently, published];
    for (const upload of all) {
      await uploads.create(upload);
      await writeFile(join(quarantineDir, upload.upload_id), 'bytes');
      await writeFile(join(quarantineDir, `${upload.upload_id}.json`), '{}');
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
      assert.equal(await exists(join(quarantineDir, upload.upload_id)), false);
      assert.equal(await exists(join(quarantineDir, `${upload.upload_id}.json`)), false);
      const audit = await auditOf(upload.upload_id);
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.action, AUDIT_ACTIONS.quarantineDeleted);
      assert.equal(audit[0]?.reason, reason);
      assert.equal(audit[0]?.actor, 'lifecycle');
    }
    for (const upload of [fresh, rejectedRecently, published]) {
      assert.equal((await uploads.get(upload.upload_id))?.status, upload.status);
      assert.equal(await exists(join(quarantineDir, upload.upload_id)), true);
      assert.deepEqual(await auditOf(upload.upload_id), []);
    }

    assert.deepEqual(await sweeper.sweep(), [], 'a second sweep finds nothing');
    assert.equal((await auditOf(expired.upload_id)).length, 1, 'and audits nothing twice');

    clockMs = T0 + 200 * HOUR_MS;
    const later = await sweeper.sweep();
    assert.deepEqual(later.map((deletion) => deletion.uploadId).sort(), [fresh.upload_id, rejectedRecently.upload_id].sort());
    assert.equal(await exists(join(quarantineDir, published.upload_id)), true, 'published files are the promotion worker\'s');
  });

  it('finishes a deletion a crash interrupted: a deleted record whose file is still there', async () => {
    const uploads = await UploadStore.open(bus, now);
    const sweeper = new LifecycleSweeper({ uploads, audit: new AuditLog(bus, now), logger: createLogger({ level: 'silent' }), quarantineDir, ttlMs: TTL_MS, intervalMs: 60_000, now });
    // The orphan ages from its real mtime, so the clock moves past that.
    clockMs = Date.now() + TTL_MS + HOUR_MS;
    const orphan = ulid(T0);
    const halfDeleted = record('deleted', T0);
    await uploads.create(halfDeleted);
    await writeFile(join(quarantineDir, halfDeleted.upload_id), 'bytes');
    await writeFile(join(quarantineDir, orphan), 'bytes');
    await writeFile(join(quarantineDir, 'not-an-upload.txt'), 'left alone');
    const deleted = await sweeper.sweep();
    assert.deepEqual(deleted.map((deletion) => deletion.uploadId).sort(), [halfDeleted.upload_id, orphan].sort());
    assert.equal(deleted.find((deletion) => deletion.uploadId === orphan)?.reason, 'orphaned');
    assert.deepEqual((await auditOf(orphan)).map((entry) => [entry.action, entry.actor, entry.reason]), [['quarantine.deleted', 'lifecycle', 'orphaned']], 'the orphan deletion is audited');
    assert.equal(await exists(join(quarantineDir, halfDeleted.upload_id)), false);
    assert.equal(await exists(join(quarantineDir, 'not-an-upload.txt')), true);
  });
});
