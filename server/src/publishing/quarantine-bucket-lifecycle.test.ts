import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startS3Server, type S3ServerHandle } from '../../../test/support/s3-server.js';
import { createLogger } from '../observability/index.js';
import { s3ClientConfigFor } from '../storage/index.js';
import { applyQuarantineBucketLifecycle, quarantineLifecycleDays } from './quarantine-bucket-lifecycle.js';

const HOUR_MS = 60 * 60 * 1000;

describe('quarantineLifecycleDays', () => {
  it('expires a day after the latest the sweeper deletes (creation + 2 TTL), and aborts parts a day after the incomplete TTL, in whole days', () => {
    assert.deepEqual(quarantineLifecycleDays(72 * HOUR_MS, 24 * HOUR_MS), { expirationDays: 7, abortIncompleteDays: 2 });
    assert.deepEqual(quarantineLifecycleDays(HOUR_MS, HOUR_MS), { expirationDays: 2, abortIncompleteDays: 2 });
  });
});

describe('applyQuarantineBucketLifecycle on a server without lifecycle rules (s3rver)', () => {
  let s3: S3ServerHandle;
  before(async () => {
    s3 = await startS3Server();
  });
  after(async () => {
    await s3.stop();
  });

  it('answers unsupported and logs that the sweeper alone deletes', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const outcome = await applyQuarantineBucketLifecycle({ s3ClientConfig: s3ClientConfigFor(s3.storage), bucket: s3.quarantineBucket, ttlMs: 72 * HOUR_MS, incompleteTtlMs: 24 * HOUR_MS, logger });
    assert.equal(outcome, 'unsupported');
    assert.ok(lines.some((line) => line.includes('the lifecycle sweeper alone deletes')), lines.join(''));
  });
});
