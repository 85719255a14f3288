import type { UploadRecord } from '../uploads/index.js';
import { faceEvidenceOf } from './face-blur-evidence.js';
import { faceBlurFilter } from './face-blur-filter.js';
import { planFaceBlur, type FaceBlurPlan } from './face-blur-plan.js';

/** How an upload's renditions are to be blurred, as its record says. */
export type FaceBlurForUpload =
  /** No blur asked for: published as it is. */
  | { readonly blur: false }
  /** Blur asked for and planned; `videoFilter` is undefined when the check saw no face (nothing to blur). */
  | { readonly blur: true; readonly plan: FaceBlurPlan; readonly videoFilter: string | undefined }
  /** Blur asked for but there is nothing to plan it from: the upload must not be published. */
  | { readonly blur: true; readonly refused: string };

/**
 * Reads a moderator's "approve with faces blurred" (`publish_options.blur_faces`) against the
 * faces check's evidence on the record. Fails closed: a blur without face data (the check did
 * not run, errored, or recorded nothing usable) is refused rather than published unblurred.
 */
export function faceBlurForUpload(record: UploadRecord): FaceBlurForUpload {
  if (record.publish_options?.blur_faces !== true) return { blur: false };
  const evidence = faceEvidenceOf(record);
  if ('missing' in evidence) return { blur: true, refused: `faces blur asked for, but ${evidence.missing}` };
  const plan = planFaceBlur(evidence.samples);
  return { blur: true, plan, videoFilter: faceBlurFilter(plan) };
}

/** A blur was asked for that cannot be made (no face data): the promotion rejects the upload instead of publishing it unblurred. */
export class FaceBlurRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaceBlurRefusedError';
  }
}

/**
 * The transcode's `videoFilter` for an upload: undefined when nothing is to be blurred (no blur
 * asked for, or the check saw no face). Throws `FaceBlurRefusedError` when a blur was asked
 * for without face data to plan it from.
 */
export function faceBlurVideoFilter(record: UploadRecord): string | undefined {
  const decision = faceBlurForUpload(record);
  if (!decision.blur) return undefined;
  if ('refused' in decision) throw new FaceBlurRefusedError(decision.refused);
  return decision.videoFilter;
}
