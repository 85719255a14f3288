import { parseChannelRef } from '@live-upload/schema';
import { ulid } from 'ulid';
import type { ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import type { UploadGrants } from './upload-grant.js';
import type { UploadRecord } from './upload-record.js';
import type { UploadRequest } from './upload-request.js';
import type { UploadStore } from './upload-store.js';

export interface UploadLimits {
  readonly maxBytes: number;
  readonly allowedTypes: readonly string[];
}

export interface IssueUploadGrantDeps {
  readonly channels: ChannelRegistry;
  readonly uploads: UploadStore;
  readonly grants: UploadGrants;
  readonly limits: UploadLimits;
  readonly now: () => number;
}

export interface IssuedUploadGrant {
  readonly uploadId: string;
  readonly token: string;
  readonly expiresAtMs: number;
  readonly maxSize: number;
}

/**
 * Checks a request against the limits and the channel's upload policy, records the upload as
 * `uploading` under a new server-generated id, and signs a grant for exactly that upload.
 */
export async function issueUploadGrant(deps: IssueUploadGrantDeps, request: UploadRequest): Promise<IssuedUploadGrant> {
  if (request.size > deps.limits.maxBytes) {
    throw new AppError('payload_too_large', `size: must be at most ${deps.limits.maxBytes} bytes`);
  }
  if (!deps.limits.allowedTypes.includes(request.type)) {
    throw new AppError('unsupported_media_type', `type: ${request.type} is not accepted; use one of ${deps.limits.allowedTypes.join(', ')}`);
  }
  const ref = parseChannelRef(request.channel);
  if (!ref) throw new AppError('invalid_channel', 'channel: must be publisher/slug');
  const channel = await deps.channels.get(ref);
  if (!channel) throw new AppError('not_found', `channel: no channel ${request.channel}`);
  if (channel.uploads !== 'open') throw new AppError('forbidden', `channel: uploads are off for ${request.channel}`);

  const nowMs = deps.now();
  const nowIso = new Date(nowMs).toISOString();
  const record: UploadRecord = {
    upload_id: ulid(nowMs),
    channel: channel.channel,
    status: 'uploading',
    source: request.source,
    filename: request.filename,
    type: request.type,
    size: request.size,
    title: request.title ?? null,
    clip: request.clip ?? null,
    checks: [],
    created_at: nowIso,
    updated_at: nowIso,
  };
  await deps.uploads.create(record);
  const signed = await deps.grants.sign({
    uploadId: record.upload_id,
    channel: record.channel,
    maxSize: record.size,
    type: record.type,
    source: record.source,
  });
  return { uploadId: record.upload_id, token: signed.token, expiresAtMs: signed.expiresAtMs, maxSize: record.size };
}
