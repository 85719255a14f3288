import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as FaceApiModule from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import type { SampledFrame } from './frame-sampler.js';
import { tensorflowRuntime } from './tensorflow-runtime.js';

const require = createRequire(import.meta.url);

type FaceApi = typeof FaceApiModule;

/** A face on a frame: its box normalized to 0..1 of the frame (top-left origin), and the detector's confidence. */
export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly score: number;
}

export interface FaceDetector {
  /** The faces on one frame at or above `minConfidence`, most confident first. */
  detect(frame: SampledFrame, minConfidence: number): Promise<FaceBox[]>;
}

/**
 * The folder of `@vladmandic/face-api`'s own models (`model/`, shipped in the npm package): the
 * SSD MobileNet v1 face detector (`ssd_mobilenetv1_model*`, ~5.6 MB) is the one used.
 */
export function bundledFaceModelFolder(): string {
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

const loaded = new Map<string, Promise<FaceDetector>>();

/**
 * The face detector whose weights are in `modelFolder` (default: the package's), loaded once
 * per process and shared. SSD MobileNet v1 rather than the package's tiny detector: ~4x the time
 * a frame (~400 ms against ~100 ms here) for fewer missed faces, and a missed face is a privacy
 * failure. A failed load is forgotten, so the next job tries again.
 */
export function faceDetector(modelFolder: string = bundledFaceModelFolder()): Promise<FaceDetector> {
  let detector = loaded.get(modelFolder);
  if (!detector) {
    detector = load(modelFolder).catch((error: unknown) => {
      loaded.delete(modelFolder);
      throw new Error(`the face model did not load: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    loaded.set(modelFolder, detector);
  }
  return detector;
}

async function load(modelFolder: string): Promise<FaceDetector> {
  await tensorflowRuntime();
  // The node-wasm build: it requires the same @tensorflow/tfjs (and so runs on the WASM backend set up above), not one bundled of its own.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  const tf = faceapi.tf;
  const net = new faceapi.SsdMobilenetv1();
  await net.loadFromDisk(modelFolder);
  // The first run compiles the graph (~1 s): done here, once, not in the first job's frame times.
  const blank = tf.tensor3d(new Int32Array(224 * 224 * 3), [224, 224, 3], 'int32');
  await net.locateFaces(blank).finally(() => blank.dispose());
  return {
    async detect(frame, minConfidence) {
      const image = tf.tensor3d(frame.rgb, [frame.height, frame.width, 3], 'int32');
      try {
        const detections = await net.locateFaces(image, new faceapi.SsdMobilenetv1Options({ minConfidence, maxResults: 50 }));
        return detections
          .map((detection) => {
            const box = detection.relativeBox;
            const x = clamp01(box.x);
            const y = clamp01(box.y);
            return { x, y, w: clamp01(box.x + box.width) - x, h: clamp01(box.y + box.height) - y, score: detection.score };
          })
          .filter((box) => box.w > 0 && box.h > 0)
          .sort((a, b) => b.score - a.score);
      } finally {
        image.dispose();
      }
    },
  };
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
