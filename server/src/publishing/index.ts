export { PromotionWorker, MAX_TRANSCODE_ATTEMPTS, PROMOTION_ACK_WAIT_MS, STAGING_DIR_NAME, type PromotionWorkerOptions } from './promotion-worker.js';
export {
  LifecycleSweeper,
  QUARANTINE_DELETION_REASONS,
  quarantineExpiry,
  type LifecycleSweeperOptions,
  type QuarantineDeletion,
  type QuarantineDeletionReason,
} from './lifecycle-sweeper.js';
export { clipPublishedEventSchema, type ClipPublishedEvent } from './clip-published-event.js';
export { MEDIA_URL_PREFIX, publishedMediaUrls, publishedFileFor, type PublishedFile, type PublishedMediaUrls } from './published-media.js';
export { applyQuarantineBucketLifecycle, quarantineLifecycleDays, QUARANTINE_LIFECYCLE_RULE_ID } from './quarantine-bucket-lifecycle.js';
export { replayOfUpload, type UploadReplay, type UploadReplayRequest, type UploadReplays } from './replay-of-upload.js';
