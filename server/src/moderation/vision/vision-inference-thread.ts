import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bundledFaceModelFolder, type FaceBox, type FaceDetector } from './face-detector.js';
import type { InferenceReply, InferenceRequest } from './inference-messages.js';
import type { NudityClassifier, NudityModelSource, NudityScores } from './nudity-classifier.js';

type RequestBody = InferenceRequest extends infer Request ? (Request extends { id: number } ? Omit<Request, 'id'> : never) : never;

interface RunningThread {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>;
}

/**
 * The vision models, run in one worker thread beside the server. Inference is synchronous
 * WebAssembly (~150 ms a frame for nudity, ~400-700 ms for faces here): on the main thread each
 * frame would stall every request, stream and heartbeat of the process for that long. In the
 * thread, inference takes at most one core and the server's event loop stays free; requests are
 * answered in order, one at a time.
 *
 * The thread starts on the first request and holds the models for the life of the process
 * (loaded once, on first use). If it crashes or exits, every request it held is rejected (the
 * checks record `error`: the uploads go to review) and the next request starts a new one. It
 * does not keep the process alive while idle.
 */
export class VisionInferenceThread {
  private running: RunningThread | undefined;
  private nextId = 1;

  /** The nudity classifier for `source`, once the thread has loaded it; rejects when the model does not load. */
  async nudity(source: NudityModelSource = { kind: 'bundled' }): Promise<NudityClassifier> {
    await this.request({ kind: 'load-nudity', source });
    return { classify: async (frame) => (await this.request({ kind: 'classify', source, frame })) as NudityScores };
  }

  /** The face detector of `modelFolder`, once the thread has loaded it; rejects when the model does not load. */
  async faces(modelFolder: string = bundledFaceModelFolder()): Promise<FaceDetector> {
    await this.request({ kind: 'load-faces', modelFolder });
    return { detect: async (frame, minConfidence) => (await this.request({ kind: 'detect', modelFolder, frame, minConfidence })) as FaceBox[] };
  }

  /** Whether a request is waiting on the thread: a check is using it. */
  get busy(): boolean {
    return (this.running?.pending.size ?? 0) > 0;
  }

  /** Ends the thread (its models go with it, and the requests it held are rejected); the next request starts a new one. */
  async close(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.worker.terminate();
  }

  private request(body: RequestBody): Promise<unknown> {
    const running = (this.running ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      running.pending.set(id, { resolve, reject });
      running.worker.ref();
      running.worker.postMessage({ ...body, id } as InferenceRequest);
    });
  }

  private start(): RunningThread {
    const worker = startWorker();
    const running: RunningThread = { worker, pending: new Map() };
    const settle = (id: number): { resolve: (value: unknown) => void; reject: (error: Error) => void } | undefined => {
      const waiting = running.pending.get(id);
      running.pending.delete(id);
      if (running.pending.size === 0) worker.unref();
      return waiting;
    };
    worker.on('message', (reply: InferenceReply) => {
      const waiting = settle(reply.id);
      if (reply.ok) waiting?.resolve(reply.value);
      else waiting?.reject(new Error(reply.message));
    });
    const failAll = (error: Error): void => {
      if (this.running === running) this.running = undefined;
      for (const id of [...running.pending.keys()]) settle(id)?.reject(error);
    };
    worker.on('error', (error) => failAll(new Error(`the vision inference thread crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => failAll(new Error(`the vision inference thread exited (code ${code})`)));
    worker.unref();
    return running;
  }
}

/**
 * The thread's entry beside this file: `.js` when the server runs compiled, `.ts` when it runs
 * from the sources under tsx, whose loader a worker's first module does not go through, so the
 * thread registers tsx before it imports its entry.
 */
function startWorker(): Worker {
  const extension = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./inference-thread${extension}`, import.meta.url);
  if (extension !== '.ts') return new Worker(entry);
  // Resolved here, from this file: the eval'd code would resolve it from wherever the process was started.
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(entry.href)}))`, { eval: true });
}

let shared: VisionInferenceThread | undefined;

/** The process's one inference thread, shared by every vision check (one thread, so the models are loaded once). */
export function visionInferenceThread(): VisionInferenceThread {
  shared ??= new VisionInferenceThread();
  return shared;
}
