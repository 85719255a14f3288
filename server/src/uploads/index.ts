export { UploadGrants, UploadGrantError, UPLOAD_GRANT_MAX_TTL_MS, bearerToken, type UploadGrant, type UploadGrantScope } from './upload-grant.js';
export {
  UPLOAD_SOURCES,
  UPLOAD_STATUSES,
  UPLOAD_TRANSITIONS,
  UPLOAD_ID_PATTERN,
  PENDING_UPLOAD_STATUSES,
  UploadTransitionError,
  isPendingUpload,
  canTransition,
  transitionUpload,
  uploadRecordSchema,
  provenanceSchema,
  type UploadCheck,
  type UploadRecord,
  type UploadSource,
  type UploadStatus,
} from './upload-record.js';
export { UploadStore } from './upload-store.js';
export {
  uploadRequestSchema,
  uploadRenewalSchema,
  uploadProvenanceSchema,
  MAX_PROVENANCE_SPAN_MS,
  type UploadProvenance,
  type UploadRenewal,
  type UploadRequest,
} from './upload-request.js';
export { issueUploadGrant, renewUploadGrant, type IssuedUploadGrant, type IssueUploadGrantDeps, type UploadLimits } from './issue-upload-grant.js';
export { issueReplayUploadGrant, type ReplayUploadLimits } from './issue-replay-upload-grant.js';
export { openReplayChannel } from './open-replay-channel.js';
export { createClientActor } from './client-actor.js';
export { uploadCompletedJobSchema, enqueueModerationJob, type UploadCompletedJob } from './moderation-job.js';
export { promotionJobSchema, promotionJobMsgId, enqueuePromotionJob, type PromotionJob } from './promotion-job.js';
export { createTusEndpoint, isTusPath, INCOMPLETE_UPLOAD_EXPIRED, TUS_PATH, TusRejection, type TusEndpoint, type TusEndpointOptions } from './tus-endpoint.js';
export { BusUploadLocker, UPLOAD_LOCK_BUCKET_TTL_MS, type BusUploadLockerOptions } from './bus-upload-locker.js';
export { UPLOAD_LOCK_EVENTS_METRIC, uploadLockEvents, type UploadLockEvent, type UploadLockEvents } from './upload-lock-metric.js';
export { QuarantinedUploads, evidencePrefixOf } from './quarantined-uploads.js';
export type { TusQuarantine } from './tus-endpoint.js';
