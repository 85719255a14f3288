import type { ObjectStore } from '../../storage/index.js';
import { timedCheck, type CheckVerdict, type ModerationCheck } from '../moderation-check.js';
import { scoreBand } from '../moderation-rules.js';
import { saveEvidence, type EvidenceEntry, type EvidenceOptions } from './check-evidence.js';
import type { SampledFrame } from './frame-sampler.js';
import { NUDITY_LABELS, type NudityLabel, type NudityModelSource, type NudityScores } from './nudity-classifier.js';
import { sharedFrames, type SharedFrameOptions } from './shared-frames.js';
import { visionInferenceThread, type VisionInferenceThread } from './vision-inference-thread.js';

export interface NudityCheckOptions {
  /** Default: nsfwjs's bundled MobileNetV2. */
  readonly model?: NudityModelSource;
  /** Where flagged frames are kept for moderators (the quarantine store); without one, only scores and times are recorded. */
  readonly evidence?: ObjectStore;
  /** At most this many flagged frames are kept, the worst first; default 4. */
  readonly maxEvidenceFrames?: number;
  readonly frames?: SharedFrameOptions;
  readonly evidenceOptions?: EvidenceOptions;
  /** Where the model runs; default the process's shared inference thread. */
  readonly inference?: VisionInferenceThread;
}

/** The labels that count, and their weight: `Sexy` (underwear, swimwear) at half, as the rules' bands assume. */
const EXPLICIT_WEIGHTS: ReadonlyArray<readonly [NudityLabel, number]> = [
  ['Porn', 1],
  ['Hentai', 1],
  ['Sexy', 0.5],
];

/** A frame's explicit score: its worst weighted explicit label. */
export function explicitScore(scores: NudityScores): { score: number; label: NudityLabel } {
  let worst: { score: number; label: NudityLabel } = { score: 0, label: 'Porn' };
  for (const [label, weight] of EXPLICIT_WEIGHTS) {
    if (scores[label] * weight > worst.score) worst = { score: scores[label] * weight, label };
  }
  return worst;
}

/**
 * Nudity on the sampled frames, by nsfwjs (MobileNetV2, on TensorFlow.js WASM, the model shipped
 * in the package, run in the process's inference thread). Each frame gets the five labels'
 * scores; the clip's score is its worst frame's explicit score (`Porn`, `Hentai`, half of
 * `Sexy`), and the rules' bands decide: `fail` at or above `block`, `review` at or above `review`. The frames in the review band or worse are kept
 * as evidence. A model that does not load, or a frame that cannot be classified, throws: the
 * worker records `error` and the upload goes to review, never to approval.
 *
 * A classifier misses things (see the README's moderation section): a pass means the sampled
 * frames scored low, not that the clip is clean.
 */
export function nudityCheck(options: NudityCheckOptions = {}): ModerationCheck {
  const name = 'nudity';
  return {
    name,
    run: (input) =>
      timedCheck(name, async (): Promise<CheckVerdict> => {
        const rules = input.rules.rules.nudity;
        if (!rules.enabled) return { result: 'pass', reason: 'turned off by the moderation rules', details: { enabled: false } };
        const classifier = await (options.inference ?? visionInferenceThread()).nudity(options.model);
        const frames = await sharedFrames(input, options.frames);
        const startedAt = performance.now();
        const scored: Array<{ frame: SampledFrame; scores: NudityScores; explicit: { score: number; label: NudityLabel } }> = [];
        for (const frame of frames) {
          const scores = await classifier.classify(frame);
          scored.push({ frame, scores, explicit: explicitScore(scores) });
        }
        const msPerFrame = (performance.now() - startedAt) / frames.length;
        const worstFirst = [...scored].sort((a, b) => b.explicit.score - a.explicit.score);
        const worst = worstFirst[0];
        const maxScore = worst?.explicit.score ?? 0;
        const band = scoreBand(maxScore, rules.bands);

        const evidence: EvidenceEntry[] = [];
        if (options.evidence) {
          const flagged = worstFirst.filter((each) => scoreBand(each.explicit.score, rules.bands) !== 'pass').slice(0, options.maxEvidenceFrames ?? 4);
          for (const each of flagged) {
            evidence.push(await saveEvidence(options.evidence, input.upload.upload_id, name, each.frame, { label: each.explicit.label, score: round(each.explicit.score) }, options.evidenceOptions));
          }
          evidence.sort((a, b) => a.t - b.t);
        }
        const details = {
          sampled_frames: frames.length,
          frame_times: frames.map((frame) => frame.t),
          max_score: round(maxScore),
          bands: rules.bands,
          worst_frames: worstFirst.slice(0, 3).map((each) => ({ t: each.frame.t, label: each.explicit.label, score: round(each.explicit.score) })),
          frames: scored.map((each) => ({ t: each.frame.t, scores: Object.fromEntries(NUDITY_LABELS.map((label) => [label, round(each.scores[label])])) })),
          evidence,
          model_ms_per_frame: Math.round(msPerFrame),
        };
        if (band === 'pass' || !worst) return { result: 'pass', details };
        const where = `${worst.explicit.label} ${round(maxScore)} at ${worst.frame.t.toFixed(1)} s`;
        return band === 'fail'
          ? { result: 'fail', reason: `explicit content: ${where} (block at ${rules.bands.block})`, details }
          : { result: 'review', reason: `possible explicit content: ${where} (review from ${rules.bands.review})`, details };
      }),
  };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
