import { parentPort } from 'node:worker_threads';
import { faceDetector } from './face-detector.js';
import type { InferenceReply, InferenceRequest } from './inference-messages.js';
import { nudityClassifier } from './nudity-classifier.js';

/**
 * The worker thread the vision models run in (see `VisionInferenceThread`): it loads each model
 * once, on its first request, and answers requests one at a time, in order. A failure is
 * answered with its message; the thread itself keeps serving.
 */
const port = parentPort;
if (!port) throw new Error('inference-thread.ts runs as a worker thread');

let queue = Promise.resolve();
port.on('message', (request: InferenceRequest) => {
  queue = queue.then(async () => {
    let reply: InferenceReply;
    try {
      reply = { id: request.id, ok: true, value: await answer(request) };
    } catch (error) {
      reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
});

async function answer(request: InferenceRequest): Promise<unknown> {
  switch (request.kind) {
    case 'load-nudity':
      await nudityClassifier(request.source);
      return null;
    case 'load-faces':
      await faceDetector(request.modelFolder);
      return null;
    case 'classify':
      return (await nudityClassifier(request.source)).classify(request.frame);
    case 'detect':
      return (await faceDetector(request.modelFolder)).detect(request.frame, request.minConfidence);
  }
}
