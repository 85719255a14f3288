import { ulid } from 'ulid';
import type { UploadRecord } from '../../server/src/uploads/index.js';

/**
 * A valid upload record for tests that need one without going through the API: a 10-byte
 * `clip.mp4` file upload on `acme/morning-show`, created at `atMs` (default now), with overrides.
 */
export function uploadRecordFixture(overrides: Partial<UploadRecord> = {}, atMs = Date.now()): UploadRecord {
  const atIso = new Date(atMs).toISOString();
  return {
    upload_id: ulid(atMs),
    channel: 'acme/morning-show',
    status: 'uploading',
    source: 'file',
    filename: 'clip.mp4',
    type: 'video/mp4',
    size: 10,
    title: null,
    clip: null,
    checks: [],
    created_at: atIso,
    updated_at: atIso,
    ...overrides,
  };
}
