/**
 * How many pthread workers the multi-thread FFmpeg.wasm core starts up front. Emscripten runs
 * each pthread in a worker from a pool made when the core loads; `@ffmpeg/core-mt` ships a fixed
 * pool of 32. Measured in Chromium (issue 26):
 * - starting 32 workers (each imports the core and instantiates its wasm) is most of a cold
 *   load on a small machine: the first Clip press waits for all of them;
 * - a job that needs a thread beyond the pool hangs: the extra worker is made while ffmpeg
 *   blocks its thread, and it never starts. A re-encode with ffmpeg's own thread counts (x264
 *   capped at 8 by `multiThreadCoreArgs`) started 8 threads on 2 CPUs, 32 on 8 and 36 on 12, so
 *   the fixed pool hung every re-encode on a machine with 12 logical CPUs.
 * So the pool follows the CPUs (`pthreadPoolSize`), passed to the core as the `pthreads` query
 * parameter of its URL (read by the build's rewrite of the core, `element/scripts/ffmpeg-cores.ts`).
 * The job's arguments stay as they were: a variant that set the decoder's and the filters'
 * thread counts itself re-encoded about 1.5x slower, and the count of filter threads depends on
 * the input (each scaler ffmpeg inserts brings its own), so the pool keeps a wide margin.
 */

/** The query parameter of the multi-thread core's URL that sizes its pthread pool. */
export const PTHREAD_POOL_PARAM = 'pthreads';

/** The most pthread workers a page may ask the multi-thread core to start up front (above it, or without the parameter, the core starts its own 32). */
export const MAX_PTHREAD_POOL = 64;

/** x264 frame threads on the multi-thread core: one per CPU, at most this many. */
export const MAX_ENCODER_THREADS = 8;

/** The x264 thread count on a machine with `hardwareConcurrency` logical CPUs: one per CPU, 1 to `MAX_ENCODER_THREADS`. */
export function encoderThreads(hardwareConcurrency: number): number {
  return Math.min(MAX_ENCODER_THREADS, Math.max(1, Math.floor(hardwareConcurrency) || 1));
}

/**
 * The pthread workers to start on a machine with `hardwareConcurrency` logical CPUs: four per
 * CPU and eight more, at most `MAX_PTHREAD_POOL`. Twice the 8 threads a re-encode started on 2
 * CPUs (16, half the core's 32), and above the 32 and 36 it started on 8 and 12 CPUs (40, 56).
 * A stream copy of one input (the Clip press) starts none; of two inputs (a replay clip's video
 * and audio) one reader each.
 */
export function pthreadPoolSize(hardwareConcurrency: number): number {
  const cpus = Math.max(1, Math.floor(hardwareConcurrency) || 1);
  return Math.min(MAX_PTHREAD_POOL, 4 * cpus + 8);
}
