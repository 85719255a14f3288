import { ulid } from 'ulid';
import { AppError } from '../errors/index.js';
import { createInAPlace, grantAndAudit, type IssueUploadGrantDeps, type IssuedUploadGrant } from './issue-upload-grant.js';
import { openReplayChannel } from './open-replay-channel.js';
import type { UploadRecord } from './upload-record.js';
import type { UploadRequest } from './upload-request.js';

/**
 * The place key of publisher uploads in a channel's cap: every replay upload of a channel shares
 * one client share (`UPLOAD_CLIENT_MAX_PENDING`), apart from its viewers' networks.
 */
const PUBLISHER_PLACE_KEY = 'publisher';

export interface ReplayUploadLimits {
  /** `VOD_UPLOAD_MAX_BYTES`: a recording of a whole broadcast, far beyond a clip's `UPLOAD_MAX_BYTES`. */
  readonly maxBytes: number;
}

/**
 * A grant for a `broadcast` upload: a recording of the channel's broadcast by its publisher
 * (the caller has checked the publisher grant or admin token and names it as `actor`), which
 * becomes a replay ladder once moderated. Unlike a viewer's upload it has its own size limit
 * (`limits.maxBytes`), no clip-length limit, and needs no open upload policy; it needs the
 * channel to keep replays (`vod` not `off`: 409 otherwise). It holds a place in the channel's
 * cap like any upload (under the publisher's own share), and is audited as `upload.granted`.
 */
export async function issueReplayUploadGrant(deps: IssueUploadGrantDeps, limits: ReplayUploadLimits, request: UploadRequest, actor: string): Promise<IssuedUploadGrant> {
  if (request.source !== 'broadcast') throw new RangeError(`not a replay upload: source ${request.source}`);
  if (request.size > limits.maxBytes) throw new AppError('payload_too_large', `size: a recording must be at most ${limits.maxBytes} bytes`);
  if (!deps.limits.allowedTypes.includes(request.type)) {
    throw new AppError('unsupported_media_type', `type: ${request.type} is not accepted; use one of ${deps.limits.allowedTypes.join(', ')}`);
  }
  const channel = await openReplayChannel(deps.channels, request.channel);
  const nowMs = deps.now();
  const nowIso = new Date(nowMs).toISOString();
  const record: UploadRecord = {
    upload_id: ulid(nowMs),
    channel,
    status: 'uploading',
    source: 'broadcast',
    filename: request.filename,
    type: request.type,
    size: request.size,
    title: request.title ?? null,
    clip: null,
    checks: [],
    created_at: nowIso,
    updated_at: nowIso,
  };
  await createInAPlace(deps, record, PUBLISHER_PLACE_KEY, nowMs);
  return grantAndAudit(deps, record, actor, false);
}
