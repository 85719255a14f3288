import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../../test/support/eventually.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';
import { AuditLog } from '../audit/index.js';
import { STREAMS, createMemoryBus, type Bus } from '../bus/index.js';
import { createLogger } from '../observability/index.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { QuarantinedUploads, UploadStore, enqueueModerationJob } from '../uploads/index.js';
import type { ModerationCheck } from './moderation-check.js';
import { builtInModerationRules, fixedModerationRules } from './moderation-rules.js';
import { ModerationWorker } from './moderation-worker.js';

/** A classifier that takes as long as a model on a long clip: it answers only when told to. */
function slowCheck(): ModerationCheck & { started: Promise<void>; finish: () => void } {
  let started!: () => void;
  let finish!: () => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const finished = new Promise<void>((resolve) => (finish = resolve));
  return {
    name: 'slow-model',
    started: startedPromise,
    finish,
    run: async () => {
      started();
      await finished;
      return { name: 'slow-model', result: 'pass', duration_ms: 1 };
    },
  };
}

const quickCheck: ModerationCheck = { name: 'slow-model', run: () => Promise.resolve({ name: 'slow-model', result: 'pass', duration_ms: 1 }) };

describe('moderation worker: stopping while a check runs', () => {
  let bus: Bus;
  let directory: string;
  let uploads: UploadStore;
  let quarantine: QuarantinedUploads;

  before(async () => {
    bus = createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    directory = await mkdtemp(join(tmpdir(), 'moderation-stop-'));
    uploads = await UploadStore.open(bus);
    quarantine = new QuarantinedUploads(new FilesystemObjectStore(directory));
  });

  after(async () => {
    await bus.close();
    await rm(directory, { recursive: true, force: true });
  });

  const worker = (checks: ModerationCheck[]): ModerationWorker =>
    new ModerationWorker({
      bus,
      uploads,
      audit: new AuditLog(bus),
      quarantine,
      rules: fixedModerationRules(builtInModerationRules('review')),
      checks,
      logger: createLogger({ level: 'silent' }),
      ackWaitMs: 60_000,
    });

  it('stops at once, leaves the upload undecided, and the job is decided by the next worker', { timeout: 20_000 }, async () => {
    const record = uploadRecordFixture({ status: 'checking' });
    await uploads.create(record);
    await quarantine.store.put(record.upload_id, Buffer.from('0123456789'));
    await enqueueModerationJob(bus, record, 10, new Date().toISOString());

    const slow = slowCheck();
    const first = worker([slow]);
    await first.start();
    await slow.started;
    const stopStartedAt = performance.now();
    await first.stop();
    const stopMs = performance.now() - stopStartedAt;
    assert.ok(stopMs < 1_000, `stop waited ${Math.round(stopMs)} ms for a check that never ends`);
    slow.finish(); // the abandoned check ends later: its result must not count
    const undecided = await uploads.get(record.upload_id);
    assert.equal(undecided?.status, 'checking');
    assert.deepEqual(undecided?.checks, [], 'no result recorded for a check that was stopped');

    const second = worker([quickCheck]);
    await second.start();
    try {
      const decided = await eventually(async () => {
        const current = await uploads.get(record.upload_id);
        return current?.status === 'checking' ? undefined : current;
      }, 'the redelivered job decided', 10_000);
      assert.equal(decided.status, 'in_review');
      assert.deepEqual(decided.checks.map((check) => check.name), ['slow-model']);
    } finally {
      await second.stop();
    }
  });
});
