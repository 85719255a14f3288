import type { SampledFrame } from './frame-sampler.js';
import type { NudityModelSource } from './nudity-classifier.js';

/** What the main thread asks the inference thread (see `VisionInferenceThread`). */
export type InferenceRequest =
  | { readonly id: number; readonly kind: 'load-nudity'; readonly source: NudityModelSource }
  | { readonly id: number; readonly kind: 'load-faces'; readonly modelFolder: string }
  | { readonly id: number; readonly kind: 'classify'; readonly source: NudityModelSource; readonly frame: SampledFrame }
  | { readonly id: number; readonly kind: 'detect'; readonly modelFolder: string; readonly frame: SampledFrame; readonly minConfidence: number };

/** The answer to the request `id`: its value, or the message of what failed. */
export type InferenceReply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly message: string };
