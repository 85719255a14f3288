import type { AuditLog } from '../audit/index.js';
import type { Bus } from '../bus/index.js';
import { AppError } from '../errors/index.js';
import { transitionUpload, type UploadRecord, type UploadStore } from '../uploads/index.js';
import { auditOutcome, enqueuePromotion } from './promote-upload.js';

/**
 * What a moderator may decide on an upload in review. `approve_blurred`: approved, published with
 * every face blurred (a clip that went to review for its faces, whose people did not all agree to
 * be shown); the record carries `publish_options.blur_faces` for the publishing transcode, and
 * the quarantined original is kept as uploaded.
 */
export const MODERATOR_DECISIONS = ['approve', 'approve_blurred', 'reject'] as const;
export type ModeratorDecision = (typeof MODERATOR_DECISIONS)[number];

export interface ApplyModeratorDecisionDeps {
  readonly bus: Bus;
  readonly uploads: UploadStore;
  readonly audit: AuditLog;
  readonly now: () => number;
}

/**
 * A moderator's decision on an upload in review: compare-and-set `in_review` -> `approved` (with
 * `publish_options.blur_faces` for `approve_blurred`) or `rejected` (404 for no such upload, 409 when it is not in review, so a second decision never
 * applies), then the audit record with the actor, then on approval the promotion job.
 */
export async function applyModeratorDecision(
  deps: ApplyModeratorDecisionDeps,
  request: { uploadId: string; decision: ModeratorDecision; reason: string | null; actor: string },
): Promise<UploadRecord> {
  const outcome = request.decision === 'reject' ? 'rejected' : 'approved';
  // Written with the status in one compare-and-set: the promotion job never sees an approval without its options.
  const publishOptions = request.decision === 'approve_blurred' ? { publish_options: { blur_faces: true } } : {};
  const atIso = new Date(deps.now()).toISOString();
  let found: UploadRecord | undefined;
  const decided = await deps.uploads.update(request.uploadId, (current) => {
    found = current;
    return current.status === 'in_review' ? { ...transitionUpload(current, outcome, atIso), ...publishOptions } : current;
  });
  if (!decided || !found) throw new AppError('not_found', 'no such upload');
  if (found.status !== 'in_review') throw new AppError('conflict', `the upload is ${found.status}, not in review`);
  await auditOutcome(deps.audit, { record: decided, outcome, actor: request.actor, reason: request.reason });
  if (outcome === 'approved') await enqueuePromotion(deps.bus, decided, request.actor, atIso);
  return decided;
}
