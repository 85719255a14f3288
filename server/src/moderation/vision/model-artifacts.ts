import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { io } from '@tensorflow/tfjs';

/**
 * A TensorFlow.js model read from a folder on disk (`model.json` and the weight files its
 * manifest names, as the converter writes them), for models that ship as files in a package
 * or that an operator puts beside the server. Nothing is fetched: a missing file throws.
 */
export async function modelArtifactsFromFolder(folder: string): Promise<io.ModelArtifacts> {
  const modelJson = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as io.ModelJSON;
  return modelArtifactsFrom(modelJson, (path) => readFile(join(folder, path)));
}

/**
 * The artifacts of a model from its `model.json` and a reader of its weight files (by the
 * manifest's relative path), the weights concatenated in manifest order as TensorFlow.js wants.
 */
export async function modelArtifactsFrom(modelJson: io.ModelJSON, readWeights: (path: string) => Promise<Uint8Array>): Promise<io.ModelArtifacts> {
  const weightSpecs: io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const path of group.paths) parts.push(await readWeights(path));
    weightSpecs.push(...group.weights);
  }
  const weightData = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    weightData.set(part, offset);
    offset += part.length;
  }
  return {
    modelTopology: modelJson.modelTopology,
    ...(modelJson.format === undefined ? {} : { format: modelJson.format }),
    ...(modelJson.generatedBy === undefined ? {} : { generatedBy: modelJson.generatedBy }),
    ...(modelJson.convertedBy === undefined ? {} : { convertedBy: modelJson.convertedBy }),
    weightSpecs,
    weightData: weightData.buffer,
  };
}
