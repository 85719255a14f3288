import { parseCanonicalId, parseChannelRef } from '@live-upload/schema';
import { ulid } from 'ulid';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/index.js';
import { KvContentionError } from '../bus/index.js';
import type { ChannelRegistry } from '../channels/index.js';
import { AppError } from '../errors/index.js';
import { openReplayChannel } from './open-replay-channel.js';
import type { UploadGrants } from './upload-grant.js';
import type { UploadRecord } from './upload-record.js';
import type { UploadProvenance, UploadRenewal, UploadRequest } from './upload-request.js';
import { startLapsed, type PlaceRefusal, type UploadStore } from './upload-store.js';

/**
 * When every place is held by an upload being checked or waiting for a decision, none frees at
 * a known time: a client is told to ask again after this (and the message says why).
 */
const PLACES_IN_REVIEW_RETRY_AFTER_S = 60;
/** How far apart the clocks of a stream's packager, the viewer and this server may be. */
const PROVENANCE_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface UploadLimits {
  readonly maxBytes: number;
  readonly allowedTypes: readonly string[];
  /** Uploads of one channel in `PENDING_UPLOAD_STATUSES` at once; a grant beyond it is a 429. */
  readonly maxPendingPerChannel: number;
  /** Places one client (`IssueUploadGrant`'s `placeKey`) may hold in one channel. */
  readonly maxPendingPerClient: number;
  /** A grant whose upload stores no byte within this frees its place, and can no longer start. */
  readonly startWindowMs: number;
  /** An upload still incomplete this long after its creation expires: it can no longer be resumed, nor hold a place. */
  readonly incompleteTtlMs: number;
}

export interface IssueUploadGrantDeps {
  readonly channels: ChannelRegistry;
  readonly uploads: UploadStore;
  readonly grants: UploadGrants;
  readonly limits: UploadLimits;
  readonly audit: AuditLog;
  readonly now: () => number;
}

export interface IssuedUploadGrant {
  readonly uploadId: string;
  readonly token: string;
  readonly expiresAtMs: number;
  readonly maxSize: number;
}

/**
 * Checks a request against the limits, the channel's upload policy, its cap of places and the
 * client's share of them (`placeKey`: the client's network, keyed), records the upload as
 * `uploading` under a new server-generated id, signs a grant for exactly that upload, and
 * audits it as `upload.granted` by `client` (a `client:` actor). A refusal is a 429 whose
 * `Retry-After` is when the first place frees.
 */
export async function issueUploadGrant(deps: IssueUploadGrantDeps, request: UploadRequest, client: string, placeKey: string): Promise<IssuedUploadGrant> {
  if (request.size > deps.limits.maxBytes) {
    throw new AppError('payload_too_large', `size: must be at most ${deps.limits.maxBytes} bytes`);
  }
  if (!deps.limits.allowedTypes.includes(request.type)) {
    throw new AppError('unsupported_media_type', `type: ${request.type} is not accepted; use one of ${deps.limits.allowedTypes.join(', ')}`);
  }
  const channel = await openChannel(deps, request.channel);
  if (request.provenance) checkProvenanceTime(request.provenance, deps.now());

  const nowMs = deps.now();
  const nowIso = new Date(nowMs).toISOString();
  const record: UploadRecord = {
    upload_id: ulid(nowMs),
    channel,
    status: 'uploading',
    source: request.source,
    filename: request.filename,
    type: request.type,
    size: request.size,
    title: request.title ?? null,
    clip: request.clip ?? null,
    ...(request.provenance ? { provenance: request.provenance } : {}),
    checks: [],
    created_at: nowIso,
    updated_at: nowIso,
  };
  await createInAPlace(deps, record, placeKey, nowMs);
  return grantAndAudit(deps, record, client, false);
}

/**
 * Records a new upload if its channel has a place for it and the client (`placeKey`) its share
 * of them; a 429 with Retry-After otherwise (`placeRefused`), or when the channel's places are
 * contended right now.
 */
export async function createInAPlace(deps: IssueUploadGrantDeps, record: UploadRecord, placeKey: string, nowMs: number): Promise<void> {
  let refusal: PlaceRefusal | undefined;
  try {
    refusal = await deps.uploads.createWithinCaps(record, {
      maxPending: deps.limits.maxPendingPerChannel,
      maxPendingPerClient: deps.limits.maxPendingPerClient,
      client: placeKey,
      startWindowMs: deps.limits.startWindowMs,
      uploadingTtlMs: deps.limits.incompleteTtlMs,
    });
  } catch (error) {
    if (!(error instanceof KvContentionError)) throw error;
    throw new AppError('rate_limited', `channel: ${record.channel} is taking many uploads at once; retry in 1 s`, { cause: error, headers: { 'Retry-After': '1' } });
  }
  if (refusal) throw placeRefused(deps.limits, record.channel, refusal, nowMs);
}

/**
 * A fresh token for an upload of `renewal.channel` still `uploading`: same id, same size and
 * type scope, so a client whose 15-minute token expired resumes where it stopped (tus HEAD,
 * then PATCH). 404 for an unknown upload or another channel's, 409 once it is no longer
 * uploading or its incomplete-upload expiry has passed. Audited as `upload.granted`, resumed.
 */
export async function renewUploadGrant(deps: IssueUploadGrantDeps, renewal: UploadRenewal, client: string): Promise<IssuedUploadGrant> {
  // Knowing an upload id is not enough to write to it: the previous grant proves possession.
  let previous;
  try {
    previous = await deps.grants.verify(renewal.token, { allowExpired: true });
  } catch {
    throw new AppError('forbidden', 'token: not a grant this server issued');
  }
  if (previous.uploadId !== renewal.upload_id || previous.channel !== renewal.channel) {
    throw new AppError('forbidden', 'token: the grant is for another upload');
  }
  const record = await deps.uploads.get(renewal.upload_id);
  if (!record || record.channel !== renewal.channel) throw new AppError('not_found', 'upload_id: no such upload in this channel');
  if (record.status !== 'uploading') throw new AppError('conflict', `upload_id: the upload is ${record.status}; only an upload still uploading can be resumed`);
  if (startLapsed(record, deps.limits.startWindowMs, deps.now())) {
    throw new AppError('conflict', `upload_id: no byte arrived within ${Math.round(deps.limits.startWindowMs / 1000)} s of the grant, so its place was given up; start a new upload`);
  }
  if (deps.now() >= Date.parse(record.created_at) + deps.limits.incompleteTtlMs) {
    throw new AppError('conflict', 'upload_id: the incomplete upload has expired; start a new one');
  }
  if (record.source === 'broadcast') await openReplayChannel(deps.channels, record.channel);
  else await openChannel(deps, record.channel);
  return grantAndAudit(deps, record, client, true);
}

/** The 429 of a full channel or client: `Retry-After` is when the first place frees, or a minute when only a decision frees one. */
export function placeRefused(limits: UploadLimits, channel: string, refusal: PlaceRefusal, nowMs: number): AppError {
  const holder = refusal.scope === 'client' ? `this client has ${limits.maxPendingPerClient} uploads on their way in ${channel}` : `channel: ${channel} has ${limits.maxPendingPerChannel} uploads on their way`;
  const retryAfterS = refusal.freesAtMs === undefined ? PLACES_IN_REVIEW_RETRY_AFTER_S : Math.max(1, Math.ceil((refusal.freesAtMs - nowMs) / 1000));
  const when = refusal.freesAtMs === undefined ? `places free as uploads are checked and reviewed; retry in ${retryAfterS} s` : `the next place frees in ${retryAfterS} s`;
  return new AppError('rate_limited', `${holder}; ${when}`, { headers: { 'Retry-After': String(retryAfterS) } });
}

/**
 * Provenance is program time of a broadcast: it cannot end after now (allowing for clocks a
 * few minutes apart) nor begin before the broadcast did (the canonical id's time part).
 */
function checkProvenanceTime(provenance: UploadProvenance, nowMs: number): void {
  const startedAtMs = parseCanonicalId(provenance.canonical_id)?.startedAtMs ?? 0;
  if (Date.parse(provenance.to) > nowMs + PROVENANCE_CLOCK_SKEW_MS) {
    throw new AppError('invalid_body', 'provenance.to: must not be in the future');
  }
  if (Date.parse(provenance.from) < startedAtMs - PROVENANCE_CLOCK_SKEW_MS) {
    throw new AppError('invalid_body', 'provenance.from: must not be before the broadcast started');
  }
}

/** The channel `{publisher}/{slug}` when it exists and takes uploads; 400, 404 or 403 otherwise. */
async function openChannel(deps: IssueUploadGrantDeps, name: string): Promise<string> {
  const ref = parseChannelRef(name);
  if (!ref) throw new AppError('invalid_channel', 'channel: must be publisher/slug');
  const channel = await deps.channels.get(ref);
  if (!channel) throw new AppError('not_found', `channel: no channel ${name}`);
  if (channel.uploads !== 'open') throw new AppError('forbidden', `channel: uploads are off for ${name}`);
  return channel.channel;
}

/** Signs the grant of `record`'s upload and audits it as `upload.granted` by `actor`. */
export async function grantAndAudit(deps: IssueUploadGrantDeps, record: UploadRecord, client: string, resumed: boolean): Promise<IssuedUploadGrant> {
  const signed = await deps.grants.sign({
    uploadId: record.upload_id,
    channel: record.channel,
    maxSize: record.size,
    type: record.type,
    source: record.source,
  });
  await deps.audit.record({
    actor: client,
    action: AUDIT_ACTIONS.uploadGranted,
    target: record.upload_id,
    reason: resumed ? 'resume' : null,
    details: { channel: record.channel, size: record.size, type: record.type, source: record.source, resumed, expires_at: new Date(signed.expiresAtMs).toISOString() },
  });
  return { uploadId: record.upload_id, token: signed.token, expiresAtMs: signed.expiresAtMs, maxSize: record.size };
}
