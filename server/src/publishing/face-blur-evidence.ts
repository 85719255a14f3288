import { z } from 'zod';
import type { UploadRecord } from '../uploads/index.js';
import type { FaceSamples } from './face-blur-plan.js';

/** The name the faces check records its result under on the upload (`record.checks[].name`). */
export const FACES_CHECK_NAME = 'faces';

const unitInterval = z.number().finite().min(0).max(1);

/**
 * The faces check's `details`, as far as the blur needs them: the sampled frames that showed a
 * face (boxes normalised 0..1, top-left origin, frames in time order) and every sampled time,
 * with or without a face (so the planner knows where a face was absent).
 */
export const facesCheckDetailsSchema = z.object({
  faces: z.object({
    frames: z.array(
      z.object({
        t: z.number().finite().nonnegative(),
        boxes: z.array(z.object({ x: unitInterval, y: unitInterval, w: unitInterval, h: unitInterval, score: z.number().optional() })),
      }),
    ),
  }),
  frame_times: z.array(z.number().finite().nonnegative()).min(1),
  sampled_frames: z.number().int().nonnegative().optional(),
});

/** Face samples to blur from, or why there are none to trust. */
export type FaceEvidence = { readonly samples: FaceSamples } | { readonly missing: string };

/**
 * What the faces check recorded on the upload, for the blur. Missing when the check never ran,
 * is still pending, ended in `error` (it could not look, so "no face found" means nothing), or
 * left details in another shape: then the blur cannot know where the faces are.
 */
export function faceEvidenceOf(record: UploadRecord): FaceEvidence {
  const check = record.checks.findLast((candidate) => candidate.name === FACES_CHECK_NAME);
  if (!check) return { missing: 'the faces check did not run' };
  if (check.result === 'pending' || check.result === 'error') return { missing: `the faces check result is ${check.result}${check.detail ? `: ${check.detail}` : ''}` };
  const parsed = facesCheckDetailsSchema.safeParse(check.details);
  if (!parsed.success) return { missing: 'the faces check recorded no usable face data' };
  return {
    samples: {
      frames: parsed.data.faces.frames.map(({ t, boxes }) => ({ t, boxes })),
      frameTimes: parsed.data.frame_times,
    },
  };
}
