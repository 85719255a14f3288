import { NSFWJS } from 'nsfwjs/core';
import { MobileNetV2Model } from 'nsfwjs/models/mobilenet_v2';
import type { SampledFrame } from './frame-sampler.js';
import { modelArtifactsFrom, modelArtifactsFromFolder } from './model-artifacts.js';
import { tensorflowRuntime } from './tensorflow-runtime.js';

/** nsfwjs's five labels; every frame gets a score for each (they sum to 1). */
export const NUDITY_LABELS = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export type NudityLabel = (typeof NUDITY_LABELS)[number];
export type NudityScores = Readonly<Record<NudityLabel, number>>;

/**
 * Where the nudity model comes from: `bundled`, nsfwjs's MobileNetV2 (224 px, ~3.5 MB of weights
 * inside the npm package, as JS modules), or a folder holding another nsfwjs-compatible Layers
 * model (`model.json` + weight files, 224 px input).
 */
export type NudityModelSource = { readonly kind: 'bundled' } | { readonly kind: 'folder'; readonly path: string };

export interface NudityClassifier {
  /** Scores of one frame (any size: the model resizes to its 224x224 input). */
  classify(frame: SampledFrame): Promise<NudityScores>;
}

const loaded = new Map<string, Promise<NudityClassifier>>();

/**
 * The classifier for `source`, loaded once per process and shared by every job (the load takes
 * ~0.7 s and ~15 MB). A load that fails is forgotten, so the next job tries again (and errors
 * again, sending its upload to review) instead of caching the failure forever.
 */
export function nudityClassifier(source: NudityModelSource = { kind: 'bundled' }): Promise<NudityClassifier> {
  const key = source.kind === 'bundled' ? 'bundled' : `folder:${source.path}`;
  let classifier = loaded.get(key);
  if (!classifier) {
    classifier = load(source).catch((error: unknown) => {
      loaded.delete(key);
      throw new Error(`the nudity model did not load: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    loaded.set(key, classifier);
  }
  return classifier;
}

async function load(source: NudityModelSource): Promise<NudityClassifier> {
  const tf = await tensorflowRuntime();
  const artifacts = source.kind === 'folder' ? await modelArtifactsFromFolder(source.path) : await bundledArtifacts();
  const model = new NSFWJS({ load: () => Promise.resolve(artifacts) }, { size: 224 });
  await model.load();
  return {
    async classify(frame) {
      const image = tf.tensor3d(frame.rgb, [frame.height, frame.width, 3], 'int32');
      try {
        const predictions = await model.classify(image, NUDITY_LABELS.length);
        const scores = Object.fromEntries(NUDITY_LABELS.map((label) => [label, 0])) as Record<NudityLabel, number>;
        for (const { className, probability } of predictions) scores[className as NudityLabel] = probability;
        return scores;
      } finally {
        image.dispose();
      }
    },
  };
}

/** nsfwjs's MobileNetV2 from the JS modules it ships (its `load()` would also work, but logs to the console). */
async function bundledArtifacts() {
  const modelJson = (await MobileNetV2Model.modelJson()).default;
  const shards = await Promise.all(MobileNetV2Model.weightBundles.map(async (bundle: () => Promise<{ default: string }>) => (await bundle()).default));
  return modelArtifactsFrom(modelJson, (path) => {
    const index = Number(/shard(\d+)of\d+$/.exec(path)?.[1]) - 1;
    const base64 = shards[index];
    if (base64 === undefined) return Promise.reject(new Error(`nsfwjs ships no weight bundle for ${path}`));
    return Promise.resolve(Buffer.from(base64, 'base64'));
  });
}
