/**
 * The VOD worker under measurement, alone in its own process (spawned by
 * bench/vod-worker-memory.ts): it follows the parent's growing live playlist with `HlsFollower`
 * into an archive on disk, then a `VodWorker` (memory bus) turns the archive into the ladder,
 * as a replica running both the capture and the VOD worker does. It samples its own resident
 * set size throughout and watches its ffmpeg children's, so the figures are the worker's alone
 * (not the origin's, not the bench's). One run per process: a fresh heap for each length.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createCanonicalId } from '@live-upload/schema';
import { STREAMS, createMemoryBus } from '../server/src/bus/index.js';
import { createLogger } from '../server/src/observability/index.js';
import { FilesystemObjectStore } from '../server/src/storage/index.js';
import { ArchiveSink, DEFAULT_INGEST_LIMITS, HlsFollower, SegmentFetcher, scaledClock } from '../server/src/vod-ingest/index.js';
import { VodSlots, VodStore, VodWorker, enqueueVodJob, vodArchivePrefix } from '../server/src/vod-jobs/index.js';
import { parentChannel } from './support/child.js';

export interface WorkerMemoryRun {
  readonly type: 'run';
  /** The live media playlist to follow. */
  readonly url: string;
  /** Media store root and staging for this run. */
  readonly dir: string;
  readonly rungs: readonly number[];
  readonly preset: string;
  readonly segmentS: number;
  /** How much faster than real time the follower's waits between polls pass. */
  readonly speedup: number;
}

export interface WorkerMemoryResult {
  readonly type: 'result';
  readonly segments: number;
  readonly gaps: number;
  readonly archivedS: number;
  readonly archiveWallS: number;
  readonly transcodeWallS: number;
  /** This process's resident set (bytes): at start, the peak while archiving, the peak while transcoding, at the end. */
  readonly rssStartBytes: number;
  readonly rssArchivePeakBytes: number;
  readonly rssTranscodePeakBytes: number;
  readonly rssEndBytes: number;
  /**
   * The JavaScript heap still in use after a full garbage collection, at the end of each phase:
   * what the worker holds on to (RSS also counts garbage not yet collected and freed pages kept).
   */
  readonly heapRetainedArchiveBytes: number;
  readonly heapRetainedTranscodeBytes: number;
  /** The kernel's high-water mark of this process (VmHWM), bytes. */
  readonly rssHighWaterBytes: number;
  /** The largest VmHWM of its ffmpeg children, KiB; undefined without /proc. */
  readonly ffmpegPeakRssKiB?: number;
}

export interface WorkerMemoryFailure {
  readonly type: 'error';
  readonly message: string;
}

/** The largest VmHWM among this process's ffmpeg children, read from /proc. */
async function ffmpegChildrenPeakKiB(): Promise<number | undefined> {
  let peak: number | undefined;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (!/^Name:\s+ffmpeg$/m.test(status) || Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1]) !== process.pid) continue;
    const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
    if (Number.isFinite(hwm)) peak = Math.max(peak ?? 0, hwm);
  }
  return peak;
}

/** A full garbage collection (the child is not started with --expose-gc: the flag is set, and `gc` taken from a fresh context). */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function retainedHeapBytes(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

async function ownHighWaterBytes(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  return Number.isFinite(kib) ? kib * 1024 : process.resourceUsage().maxRSS * 1024;
}

async function run(message: WorkerMemoryRun): Promise<WorkerMemoryResult> {
  const logger = createLogger({ level: 'silent' });
  const media = new FilesystemObjectStore(join(message.dir, 'media'));
  const bus = createMemoryBus();
  await bus.ensureStreams(Object.values(STREAMS));
  const startedMs = Date.now();
  const canonicalId = createCanonicalId({ publisher: 'bench', slug: 'memory' }, startedMs);
  const prefix = vodArchivePrefix(canonicalId);

  let phase: 'archive' | 'transcode' = 'archive';
  const peaks = { archive: 0, transcode: 0 };
  let ffmpegPeakRssKiB: number | undefined;
  const sample = async () => {
    peaks[phase] = Math.max(peaks[phase], process.memoryUsage().rss);
    if (phase === 'transcode') {
      const kib = await ffmpegChildrenPeakKiB();
      if (kib !== undefined) ffmpegPeakRssKiB = Math.max(ffmpegPeakRssKiB ?? 0, kib);
    }
  };
  const sampler = setInterval(() => void sample(), 100);
  collectGarbage();
  const rssStartBytes = process.memoryUsage().rss;

  try {
    const clock = scaledClock(message.speedup);
    const fetcher = new SegmentFetcher({ limits: DEFAULT_INGEST_LIMITS, clock, allowPrivateHosts: new Set(['127.0.0.1']) });
    const archiveStarted = performance.now();
    const sink = await ArchiveSink.open(media, prefix, { kind: 'live', source: message.url }, { clock });
    const outcome = await new HlsFollower({ url: message.url, sink, fetcher, clock }).run();
    fetcher.close();
    const archiveWallS = (performance.now() - archiveStarted) / 1000;
    if (outcome.state !== 'ended') throw new Error(`the archive ${outcome.state}: ${outcome.failure?.reason} ${outcome.failure?.message}`);
    await sample();
    const heapRetainedArchiveBytes = retainedHeapBytes();

    phase = 'transcode';
    const vods = await VodStore.open(bus);
    const worker = new VodWorker({
      bus,
      vods,
      slots: await VodSlots.open(bus),
      media,
      stagingDir: join(message.dir, 'media', '.staging'),
      logger,
      concurrency: 1,
      perPublisherLimit: 1,
      sourcePolicy: { allowPrivateHosts: new Set() },
      ladder: { rungs: message.rungs, preset: message.preset, segmentS: message.segmentS },
    });
    const transcodeStarted = performance.now();
    await worker.start();
    await enqueueVodJob(
      bus,
      {
        canonical_id: canonicalId,
        channel: 'bench/memory',
        source: { kind: 'live-archive', archive_prefix: prefix },
        started_at: new Date(startedMs).toISOString(),
        requested_at: new Date().toISOString(),
      },
      { vods },
    );
    for (;;) {
      const record = await vods.get(canonicalId);
      if (record?.state === 'published') break;
      if (record?.state === 'failed' || record?.state === 'cancelled') throw new Error(`the replay ${record.state}: ${JSON.stringify(record.failure)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const transcodeWallS = (performance.now() - transcodeStarted) / 1000;
    await worker.stop();
    await sample();
    const heapRetainedTranscodeBytes = retainedHeapBytes();
    return {
      type: 'result',
      segments: outcome.totals.segments,
      gaps: outcome.totals.gaps,
      archivedS: outcome.totals.durationS,
      archiveWallS,
      transcodeWallS,
      rssStartBytes,
      rssArchivePeakBytes: peaks.archive,
      rssTranscodePeakBytes: peaks.transcode,
      rssEndBytes: process.memoryUsage().rss,
      heapRetainedArchiveBytes,
      heapRetainedTranscodeBytes,
      rssHighWaterBytes: await ownHighWaterBytes(),
      ...(ffmpegPeakRssKiB !== undefined ? { ffmpegPeakRssKiB } : {}),
    };
  } finally {
    clearInterval(sampler);
    await bus.close();
  }
}

const send = parentChannel<WorkerMemoryRun>(async (message) => {
  try {
    send(await run(message));
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerMemoryFailure);
  }
});
