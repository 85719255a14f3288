import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryBus } from '../bus/index.js';
import type { UploadRecord } from './upload-record.js';
import { UploadStore } from './upload-store.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';

const HOUR_MS = 3600 * 1000;

function uploadAt(nowMs: number, channel = 'acme/show'): UploadRecord {
  return uploadRecordFixture({ channel }, nowMs);
}

describe('UploadStore channel cap', () => {
  it('admits up to the cap per channel and frees a place once an upload has left the pending statuses', async () => {
    let nowMs = Date.now();
    const store = await UploadStore.open(createMemoryBus(), () => nowMs);
    const cap = { maxPending: 2, uploadingTtlMs: HOUR_MS };
    const first = uploadAt(nowMs);
    assert.equal(await store.createWithinChannelCap(first, cap), true);
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs), cap), true);
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs), cap), false);
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs, 'acme/other'), cap), true, 'caps are per channel');

    await store.transition(first.upload_id, 'checking');
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs), cap), false, 'checking still holds its place');
    await store.transition(first.upload_id, 'rejected');
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs), cap), true);
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs), cap), false);

    nowMs += HOUR_MS + 1;
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs), cap), true, 'abandoned uploads past the incomplete TTL free their places');
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs), cap), true);
    assert.equal(await store.createWithinChannelCap(uploadAt(nowMs), cap), false);
  });

  it('keeps upload records and the pending index apart in the bucket', async () => {
    const store = await UploadStore.open(createMemoryBus());
    const record = uploadAt(Date.now());
    await store.createWithinChannelCap(record, { maxPending: 5, uploadingTtlMs: HOUR_MS });
    assert.deepEqual((await store.list()).map((listed) => listed.upload_id), [record.upload_id]);
  });
});
