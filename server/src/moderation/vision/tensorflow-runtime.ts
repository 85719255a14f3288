import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TensorFlowModule from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);

type TensorFlow = typeof TensorFlowModule;

let ready: Promise<TensorFlow> | undefined;

/**
 * TensorFlow.js on its WebAssembly backend, set up once per process for every model (the nudity
 * classifier and the face detector share it). WASM, not the pure JS `cpu` backend: on this
 * 2-core machine the nudity model takes ~105 ms a frame on WASM (SIMD, one thread) against
 * ~3.5 s on `cpu`. Not `@tensorflow/tfjs-node`: it downloads libtensorflow in an install script,
 * which neither runs nor could download here. The `.wasm` files ship inside
 * `@tensorflow/tfjs-backend-wasm` and are read from its folder: nothing is fetched at run time.
 * A failed set-up is not cached, so the next job tries again.
 */
export function tensorflowRuntime(): Promise<TensorFlow> {
  ready ??= setUp().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

async function setUp(): Promise<TensorFlow> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js WASM backend did not start');
  await tf.ready();
  return tf;
}
