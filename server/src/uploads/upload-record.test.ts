import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UPLOAD_STATUSES, UploadTransitionError, canTransition, transitionUpload, type UploadRecord } from './upload-record.js';
import { uploadRecordFixture } from '../../../test/support/upload-record-fixture.js';

const record: UploadRecord = uploadRecordFixture({ channel: 'acme/show', filename: 'a.mp4' }, Date.parse('2026-01-01T00:00:00.000Z'));

describe('upload status machine', () => {
  it('moves an upload through checking to review and publication', () => {
    const checking = transitionUpload(record, 'checking', '2026-01-01T00:01:00.000Z');
    assert.equal(checking.status, 'checking');
    assert.equal(checking.completed_at, '2026-01-01T00:01:00.000Z');
    assert.equal(record.status, 'uploading', 'pure: the input is untouched');
    const published = transitionUpload(transitionUpload(checking, 'in_review', 'x'), 'published', 'y');
    assert.equal(published.status, 'published');
    assert.equal(transitionUpload(published, 'deleted', 'z').status, 'deleted');
  });

  it('treats a repeated move as a no-op and refuses moves the table forbids', () => {
    const checking = transitionUpload(record, 'checking', 'a');
    assert.equal(transitionUpload(checking, 'checking', 'b'), checking);
    assert.throws(() => transitionUpload(record, 'published', 'a'), UploadTransitionError);
    assert.throws(() => transitionUpload(checking, 'uploading', 'a'), UploadTransitionError);
    for (const to of UPLOAD_STATUSES) assert.equal(canTransition('deleted', to), to === 'deleted', `deleted -> ${to}`);
  });
});
