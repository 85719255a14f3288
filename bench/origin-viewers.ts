/**
 * The HLS viewers of `bench/origin.ts`, in their own process so their fetching does not share
 * the origin's event loop: on `run`, N players each reload one rung's live playlist once a
 * target duration (a random phase each, as players that joined at different times) and fetch
 * every segment that appeared since their last reload (the newest at their first), whole, like
 * hls.js at the live edge; then reports every playlist and segment fetch time.
 */
import { parentChannel } from './support/child.js';

export interface ViewersRun {
  readonly type: 'run';
  /** The rung's directory URL on the origin (`.../720p/`). */
  readonly rungUrl: string;
  readonly viewers: number;
  readonly seconds: number;
  readonly segmentS: number;
}

export interface ViewersResult {
  readonly type: 'result';
  readonly playlistMs: number[];
  readonly segmentMs: number[];
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly bytes: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function watch(run: ViewersRun, result: { playlistMs: number[]; segmentMs: number[]; errors: number; firstError: string | undefined; bytes: number }): Promise<void> {
  const reloadMs = run.segmentS * 1000;
  const end = Date.now() + run.seconds * 1000;
  await sleep(Math.random() * reloadMs);
  let newest: string | undefined;
  while (Date.now() < end) {
    const reloadAt = Date.now() + reloadMs;
    try {
      let startedAt = performance.now();
      const playlist = await fetch(`${run.rungUrl}index.m3u8`, { signal: AbortSignal.timeout(10_000) });
      if (!playlist.ok) throw new Error(`playlist ${playlist.status}`);
      const segments = (await playlist.text()).split('\n').filter((line) => line.length > 0 && !line.startsWith('#'));
      result.playlistMs.push(performance.now() - startedAt);
      const since = newest === undefined ? -1 : segments.indexOf(newest);
      const wanted = newest === undefined || since === -1 ? segments.slice(-1) : segments.slice(since + 1);
      for (const segment of wanted) {
        startedAt = performance.now();
        const response = await fetch(`${run.rungUrl}${segment}`, { signal: AbortSignal.timeout(10_000) });
        if (!response.ok) throw new Error(`segment ${response.status}`);
        result.bytes += (await response.arrayBuffer()).byteLength;
        result.segmentMs.push(performance.now() - startedAt);
      }
      newest = segments.at(-1) ?? newest;
    } catch (error) {
      result.errors += 1;
      result.firstError ??= error instanceof Error ? error.message : String(error);
    }
    await sleep(Math.max(0, reloadAt - Date.now()));
  }
}

const send = parentChannel<ViewersRun>(async (run) => {
  const result = { playlistMs: [] as number[], segmentMs: [] as number[], errors: 0, firstError: undefined as string | undefined, bytes: 0 };
  await Promise.all(Array.from({ length: run.viewers }, () => watch(run, result)));
  send({ type: 'result', ...result } satisfies ViewersResult);
});
