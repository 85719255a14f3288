import type { ObjectStore } from '../../storage/index.js';
import { timedCheck, type CheckVerdict, type ModerationCheck } from '../moderation-check.js';
import { saveEvidence, type EvidenceEntry, type EvidenceOptions } from './check-evidence.js';
import type { FaceBox } from './face-detector.js';
import type { SampledFrame } from './frame-sampler.js';
import { sharedFrames, type SharedFrameOptions } from './shared-frames.js';
import { visionInferenceThread, type VisionInferenceThread } from './vision-inference-thread.js';

export interface FacesCheckOptions {
  /** The folder of face-api's SSD MobileNet v1 weights; default the one in `@vladmandic/face-api`. */
  readonly modelFolder?: string;
  /** Where frames with faces are kept for moderators (the quarantine store); without one, only boxes and times are recorded. */
  readonly evidence?: ObjectStore;
  /** At most this many frames with faces are kept, the most confident first; default 4. */
  readonly maxEvidenceFrames?: number;
  readonly frames?: SharedFrameOptions;
  readonly evidenceOptions?: EvidenceOptions;
  /** Where the model runs; default the process's shared inference thread. */
  readonly inference?: VisionInferenceThread;
}

/** The faces of one sampled frame, as recorded in `details.faces.frames`. */
export interface FacesOnFrame {
  readonly t: number;
  readonly boxes: readonly FaceBox[];
}

/**
 * Faces on the sampled frames (privacy: the people filmed did not all agree to be published),
 * by face-api's SSD MobileNet v1 on TensorFlow.js WASM, the weights shipped in the package (run
 * in the process's inference thread). A clip with a face at or above the rules' `min_confidence`
 * goes to `review` unless the rules `allow` faces (then it passes and the faces are still
 * recorded).
 *
 * The details are what the blur on approval reads: `faces.frames` lists, in time order, each
 * sampled frame with at least one face and its boxes (x, y, w, h normalized to 0..1 of the
 * frame, top-left origin, with the score); `frame_times` lists every sampled time, so a frame
 * absent from `faces.frames` is one where no face was seen. A model that does not load throws:
 * `error`, and the upload goes to review.
 */
export function facesCheck(options: FacesCheckOptions = {}): ModerationCheck {
  const name = 'faces';
  return {
    name,
    run: (input) =>
      timedCheck(name, async (): Promise<CheckVerdict> => {
        const rules = input.rules.rules.faces;
        if (!rules.enabled) return { result: 'pass', reason: 'turned off by the moderation rules', details: { enabled: false } };
        const detector = await (options.inference ?? visionInferenceThread()).faces(options.modelFolder);
        const frames = await sharedFrames(input, options.frames);
        const startedAt = performance.now();
        const withFaces: Array<{ frame: SampledFrame; boxes: FaceBox[] }> = [];
        for (const frame of frames) {
          const boxes = await detector.detect(frame, rules.min_confidence);
          if (boxes.length > 0) withFaces.push({ frame, boxes });
        }
        const msPerFrame = (performance.now() - startedAt) / frames.length;

        const evidence: EvidenceEntry[] = [];
        if (options.evidence) {
          const mostConfident = [...withFaces].sort((a, b) => topScore(b.boxes) - topScore(a.boxes)).slice(0, options.maxEvidenceFrames ?? 4);
          for (const each of mostConfident) {
            evidence.push(await saveEvidence(options.evidence, input.upload.upload_id, name, each.frame, { label: 'face', score: round(topScore(each.boxes)) }, options.evidenceOptions));
          }
          evidence.sort((a, b) => a.t - b.t);
        }
        const faces: { frames: FacesOnFrame[] } = {
          frames: withFaces.map(({ frame, boxes }) => ({
            t: frame.t,
            boxes: boxes.map((box) => ({ x: round(box.x), y: round(box.y), w: round(box.w), h: round(box.h), score: round(box.score) })),
          })),
        };
        const details = {
          sampled_frames: frames.length,
          frame_times: frames.map((frame) => frame.t),
          faces,
          allowed: rules.allow,
          min_confidence: rules.min_confidence,
          evidence,
          model_ms_per_frame: Math.round(msPerFrame),
        };
        const first = withFaces[0];
        if (!first) return { result: 'pass', details };
        const seen = `faces on ${withFaces.length} of ${frames.length} sampled frames (first at ${first.frame.t.toFixed(1)} s, at most ${Math.max(...withFaces.map((each) => each.boxes.length))} at once)`;
        if (rules.allow) return { result: 'pass', reason: `${seen}; the channel allows faces`, details };
        return { result: 'review', reason: seen, details };
      }),
  };
}

function topScore(boxes: readonly FaceBox[]): number {
  return Math.max(0, ...boxes.map((box) => box.score));
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
