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
export { faceBlurForUpload, faceBlurVideoFilter, FaceBlurRefusedError, type FaceBlurForUpload } from './face-blur-for-upload.js';
export { faceEvidenceOf, facesCheckDetailsSchema, FACES_CHECK_NAME, type FaceEvidence } from './face-blur-evidence.js';
export { planFaceBlur, blurRectsAt, FACE_BLUR_DEFAULTS, type FaceBlurPlan, type FaceBlurPlanOptions, type FaceSamples } from './face-blur-plan.js';
export { faceBlurFilter, FACE_BLUR_STRENGTH } from './face-blur-filter.js';
