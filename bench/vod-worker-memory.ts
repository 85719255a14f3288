/**
 * The VOD worker's memory as the broadcast grows (issue 21: "the worker's memory stays flat while
 * the broadcast grows; report RSS at 1 and at 10 minutes of source"). For each length, a child
 * process (bench/vod-worker-memory-child.ts) archives a live broadcast of that length from a
 * growing playlist served here, then transcodes it with `VodWorker`; it reports its own resident
 * set (sampled every 100 ms, and the kernel's high-water mark) and its ffmpeg's peak. The
 * broadcast is 360p 10 fps H.264/AAC made once by ffmpeg and cached (test/support/broadcast-segments.ts);
 * the origin publishes one more segment at each playlist load, and the follower's waits pass
 * `SPEEDUP` times faster, so 10 minutes are archived in seconds with the follower's own code path.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HlsOrigin } from '../test/fakes/hls-origin/hls-origin.js';
import { broadcastSegments, type BroadcastShape } from '../test/support/broadcast-segments.js';
import { spawnBenchChild } from './support/child.js';
import { fmt, table, verdict } from './support/stats.js';
import type { WorkerMemoryFailure, WorkerMemoryResult, WorkerMemoryRun } from './vod-worker-memory-child.js';

/** The longest broadcast measured; shorter ones are its first minutes. */
const BROADCAST: BroadcastShape = { seconds: 600, width: 640, height: 360, fps: 10, segmentS: 4, videoKbps: 400 };
const RUNGS = [360, 240, 144];
const SPEEDUP = 200;
/** "Flat": the longest broadcast's peak within this factor of the shortest's. */
export const VOD_MEMORY_FLAT_FACTOR = 1.25;

export interface VodWorkerMemoryPoint extends Omit<WorkerMemoryResult, 'type'> {
  readonly sourceSeconds: number;
}

export interface VodWorkerMemoryResult {
  readonly shape: string;
  readonly points: readonly VodWorkerMemoryPoint[];
  /** Longest / shortest, of the worker process's high-water mark and of ffmpeg's peak. */
  readonly workerGrowth: number;
  readonly ffmpegGrowth: number;
  readonly flat: boolean;
}

/** One child per length, one after the other (each a fresh process, so each peak is its own). */
export async function runVodWorkerMemoryBench(options: { readonly atSeconds?: readonly number[]; readonly log?: (line: string) => void } = {}): Promise<VodWorkerMemoryResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const atSeconds = [...(options.atSeconds ?? [60, 600])].sort((a, b) => a - b);
  if (atSeconds.some((seconds) => seconds > BROADCAST.seconds)) throw new RangeError(`at most ${BROADCAST.seconds} s of source`);
  log(`making (or reading the cached) ${BROADCAST.seconds} s ${BROADCAST.width}x${BROADCAST.height} ${BROADCAST.fps} fps broadcast...`);
  const broadcast = await broadcastSegments(BROADCAST);
  const points: VodWorkerMemoryPoint[] = [];
  for (const seconds of atSeconds) {
    const segments = broadcast.segments.slice(0, Math.max(1, Math.round(seconds / BROADCAST.segmentS)));
    // The origin's clock is its playlist loads: each one publishes the next segment, however fast the follower polls.
    let loads = 0;
    const epochMs = Date.UTC(2026, 0, 1);
    const segmentMs = BROADCAST.segmentS * 1000;
    const origin = await HlsOrigin.start({ clock: { now: () => epochMs + loads * segmentMs }, segments, windowSize: 6, firstSequence: 0 });
    origin.on('request', (path) => {
      if (path === '/live/index.m3u8') loads++;
    });
    origin.endAfter = segments.length - 1;
    const dir = await mkdtemp(join(tmpdir(), 'live-upload-bench-vod-memory-'));
    const child = spawnBenchChild<WorkerMemoryResult | WorkerMemoryFailure>(new URL('./vod-worker-memory-child.ts', import.meta.url));
    try {
      const run: WorkerMemoryRun = { type: 'run', url: origin.liveUrl, dir, rungs: RUNGS, preset: 'veryfast', segmentS: BROADCAST.segmentS, speedup: SPEEDUP };
      child.send(run);
      const answer = await child.next((message): message is WorkerMemoryResult | WorkerMemoryFailure => message.type === 'result' || message.type === 'error', Math.max(300_000, seconds * 2000));
      if (answer.type === 'error') throw new Error(`the worker child failed: ${answer.message}`);
      const { type: _type, ...figures } = answer;
      const point = { sourceSeconds: seconds, ...figures };
      points.push(point);
      log(
        `${seconds} s of source: archived ${point.segments} segments (${point.gaps} gaps) in ${fmt(point.archiveWallS, 1)} s, transcoded in ${fmt(point.transcodeWallS, 1)} s; ` +
          `worker RSS ${mib(point.rssArchivePeakBytes)} archiving, ${mib(point.rssTranscodePeakBytes)} transcoding, high-water ${mib(point.rssHighWaterBytes)}; ` +
          `heap retained ${mib(point.heapRetainedArchiveBytes)} / ${mib(point.heapRetainedTranscodeBytes)}; ffmpeg peak ${kibToMib(point.ffmpegPeakRssKiB)}`,
      );
    } finally {
      await child.stop();
      await origin.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  const first = points[0]!;
  const last = points.at(-1)!;
  const workerGrowth = last.rssHighWaterBytes / first.rssHighWaterBytes;
  const ffmpegGrowth = last.ffmpegPeakRssKiB && first.ffmpegPeakRssKiB ? last.ffmpegPeakRssKiB / first.ffmpegPeakRssKiB : Number.NaN;
  return {
    shape: `${BROADCAST.width}x${BROADCAST.height} ${BROADCAST.fps} fps, ${BROADCAST.segmentS} s segments, rungs ${RUNGS.join('/')} veryfast`,
    points,
    workerGrowth,
    ffmpegGrowth,
    flat: workerGrowth <= VOD_MEMORY_FLAT_FACTOR && !(ffmpegGrowth > VOD_MEMORY_FLAT_FACTOR),
  };
}

function mib(bytes: number): string {
  return `${fmt(bytes / 1024 / 1024, 0)} MiB`;
}

function kibToMib(kib: number | undefined): string {
  return kib === undefined ? 'n/a' : `${fmt(kib / 1024, 0)} MiB`;
}

export function formatVodWorkerMemory(result: VodWorkerMemoryResult): string {
  return [
    `worker memory (archive live, then VodWorker ladder, in a child process; ${result.shape}):`,
    table([
      ['source s', 'segments', 'archive wall s', 'ladder wall s', 'RSS start', 'RSS archiving', 'RSS transcoding', 'RSS high-water', 'heap kept (archive/ladder)', 'ffmpeg peak'],
      ...result.points.map((point) => [
        String(point.sourceSeconds),
        String(point.segments),
        fmt(point.archiveWallS, 1),
        fmt(point.transcodeWallS, 1),
        mib(point.rssStartBytes),
        mib(point.rssArchivePeakBytes),
        mib(point.rssTranscodePeakBytes),
        mib(point.rssHighWaterBytes),
        `${mib(point.heapRetainedArchiveBytes)} / ${mib(point.heapRetainedTranscodeBytes)}`,
        kibToMib(point.ffmpegPeakRssKiB),
      ]),
    ]),
    `worker RSS high-water ${result.points.map((point) => `${mib(point.rssHighWaterBytes)} at ${point.sourceSeconds} s`).join(', ')} (x${fmt(result.workerGrowth, 2)}); ` +
      `ffmpeg peak x${fmt(result.ffmpegGrowth, 2)} (flat: within x${VOD_MEMORY_FLAT_FACTOR}): ${verdict(result.flat)}`,
  ].join('\n');
}

/** The summary line's memory part. */
export function vodWorkerMemorySummary(result: VodWorkerMemoryResult): string {
  return `worker RSS ${result.points.map((point) => `${mib(point.rssHighWaterBytes)} (ffmpeg ${kibToMib(point.ffmpegPeakRssKiB)}) at ${point.sourceSeconds / 60} min`).join(', ')} of source: ${verdict(result.flat)}`;
}
