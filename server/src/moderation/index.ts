export {
  CHECK_OUTCOMES,
  runModerationCheck,
  timedCheck,
  toUploadCheck,
  type CheckFacts,
  type CheckOutcome,
  type CheckResult,
  type CheckVerdict,
  type ModerationCheck,
  type ModerationCheckInput,
} from './moderation-check.js';
export { magicBytesCheck } from './magic-bytes-check.js';
export { mediaProbeCheck, REPLAY_UPLOAD_MAX_DURATION_S, type MediaProbeCheckOptions } from './media-probe-check.js';
export { textCheck } from './text-check.js';
export { perceptualHashCheck } from './perceptual-hash-check.js';
export { HashBlocklist, blocklistEntrySchema, type BlocklistEntry } from './hash-blocklist.js';
export { approvalFor, decideModeration, MODERATION_POLICIES, type ModerationDecision, type ModerationOutcome, type ModerationPolicy } from './moderation-policy.js';
export { MODERATION_ACTOR, OUTCOME_AUDIT_ACTIONS, auditOutcome, enqueuePromotion } from './promote-upload.js';
export { applyModeratorDecision, MODERATOR_DECISIONS, type ApplyModeratorDecisionDeps, type ModeratorDecision } from './apply-moderator-decision.js';
export { ModerationWorker, defaultModerationChecks, type ModerationWorkerOptions } from './moderation-worker.js';
export {
  AUDIO_REFERENCE_DEMUXERS,
  AUDIO_REFERENCE_ID_PATTERN,
  AudioReferences,
  audioFingerprintCheck,
  audioReferenceSchema,
  fingerprintAudioFile,
  type AudioFileFingerprint,
  type AudioFingerprintCheckOptions,
  type AudioReference,
  type AudioReferencePage,
  type AudioReferenceSummary,
} from './audio/index.js';
export {
  builtInModerationRules,
  fixedModerationRules,
  moderationRulesSchema,
  scoreBand,
  scoreBandsSchema,
  type ModerationRules,
  type ModerationRulesSource,
  type ResolvedModerationRules,
  type ScoreBands,
} from './moderation-rules.js';
export {
  DEFAULT_RULES_SCOPE,
  ModerationRulesStore,
  StaleModerationRulesError,
  storedModerationRulesSchema,
  type ModerationRulesChange,
  type ModerationRulesDocument,
  type StoredModerationRules,
} from './moderation-rules-store.js';
export { moderationRulesChanges, type ModerationRulesChangeEntry } from './moderation-rules-diff.js';
export {
  nudityCheck,
  facesCheck,
  readEvidence,
  deleteEvidence,
  evidencePrefix,
  type EvidenceEntry,
  type FaceBox,
  type FacesCheckOptions,
  type FacesOnFrame,
  type NudityCheckOptions,
  type NudityModelSource,
} from './vision/index.js';
