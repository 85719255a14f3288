import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryBus } from '../bus/index.js';
import type { UploadRecord } from './upload-record.js';
import { UploadStore, type PlaceCaps } from './upload-store.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';

const HOUR_MS = 3600 * 1000;
const START_WINDOW_MS = 120_000;

function uploadAt(nowMs: number, channel = 'acme/show'): UploadRecord {
  return uploadRecordFixture({ channel }, nowMs);
}

const caps = (overrides: Partial<PlaceCaps> = {}): PlaceCaps => ({
  maxPending: 2,
  maxPendingPerClient: 100,
  client: 'client:aaaa',
  startWindowMs: START_WINDOW_MS,
  uploadingTtlMs: HOUR_MS,
  ...overrides,
});

describe('UploadStore places', () => {
  it('admits up to the cap per channel and frees a place once an upload has left the pending statuses', async () => {
    let nowMs = Date.now();
    const store = await UploadStore.open(createMemoryBus(), () => nowMs);
    const admitted = async (record: UploadRecord) => (await store.createWithinCaps(record, caps())) === undefined;
    const first = uploadAt(nowMs);
    assert.equal(await admitted(first), true);
    const second = uploadAt(nowMs);
    assert.equal(await admitted(second), true);
    assert.equal(await admitted(uploadAt(nowMs)), false);
    assert.equal(await admitted(uploadAt(nowMs, 'acme/other')), true, 'caps are per channel');

    await store.transition(first.upload_id, 'checking');
    await store.markReceiving(second.upload_id);
    assert.equal(await admitted(uploadAt(nowMs)), false, 'checking still holds its place');
    await store.transition(first.upload_id, 'rejected');
    assert.equal(await admitted(uploadAt(nowMs)), true);
    assert.equal(await admitted(uploadAt(nowMs)), false);

    nowMs += HOUR_MS + 1;
    assert.equal(await admitted(uploadAt(nowMs)), true, 'abandoned uploads past the incomplete TTL free their places');
    assert.equal(await admitted(uploadAt(nowMs)), true);
    assert.equal(await admitted(uploadAt(nowMs)), false);
  });

  it('frees the place of a grant that stored no byte after the start window, and says when', async () => {
    let nowMs = Date.now();
    const store = await UploadStore.open(createMemoryBus(), () => nowMs);
    const idle = uploadAt(nowMs);
    const started = uploadAt(nowMs + 1000);
    assert.equal(await store.createWithinCaps(idle, caps()), undefined);
    nowMs += 1000;
    assert.equal(await store.createWithinCaps(started, caps()), undefined);
    await store.markReceiving(started.upload_id);
    const refused = await store.createWithinCaps(uploadAt(nowMs), caps());
    assert.deepEqual(refused, { scope: 'channel', freesAtMs: Date.parse(idle.created_at) + START_WINDOW_MS }, 'the idle grant frees first');

    nowMs = Date.parse(idle.created_at) + START_WINDOW_MS;
    assert.equal(await store.createWithinCaps(uploadAt(nowMs), caps()), undefined, 'the idle grant gave its place up');
    const full = await store.createWithinCaps(uploadAt(nowMs), caps());
    assert.equal(full?.scope, 'channel');
  });

  it('charges places per client as well: one client cannot take every place of a channel', async () => {
    const nowMs = Date.now();
    const store = await UploadStore.open(createMemoryBus(), () => nowMs);
    const limits = caps({ maxPending: 4, maxPendingPerClient: 2 });
    for (let i = 0; i < 2; i++) assert.equal(await store.createWithinCaps(uploadAt(nowMs), limits), undefined);
    assert.equal((await store.createWithinCaps(uploadAt(nowMs), limits))?.scope, 'client');
    for (let i = 0; i < 2; i++) assert.equal(await store.createWithinCaps(uploadAt(nowMs), { ...limits, client: 'client:bbbb' }), undefined);
    assert.equal((await store.createWithinCaps(uploadAt(nowMs), { ...limits, client: 'client:cccc' }))?.scope, 'channel');
    assert.equal((await store.createWithinCaps(uploadAt(nowMs), { ...limits, client: 'client:aaaa' }))?.scope, 'client');
  });

  it('keeps upload records and the place indexes apart in the bucket', async () => {
    const store = await UploadStore.open(createMemoryBus());
    const record = uploadAt(Date.now());
    await store.createWithinCaps(record, caps({ maxPending: 5 }));
    assert.deepEqual((await store.list()).map((listed) => listed.upload_id), [record.upload_id]);
  });
});
