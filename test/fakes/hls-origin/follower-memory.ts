/**
 * A measurement, run by hand (not a test): the live follower's memory while a broadcast grows.
 * Archives `N` segments (default 3,000) from the fake origin on the test clock into a file
 * system store and prints RSS and heap after a forced GC at every tenth of the way.
 *
 *   node --expose-gc --import tsx test/fakes/hls-origin/follower-memory.ts 3000
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveSink, DEFAULT_INGEST_LIMITS, HlsFollower, SegmentFetcher } from '../../../server/src/vod-ingest/index.js';
import { FilesystemObjectStore } from '../../../server/src/storage/index.js';
import { HlsOrigin } from './hls-origin.js';
import { ManualClock } from './manual-clock.js';
import { sourceSegments } from './source-segments.js';

const total = Number(process.argv[2] ?? 3_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const segments = await sourceSegments('audio-video', 6);
const clock = new ManualClock();
const origin = await HlsOrigin.start({ clock, segments, windowSize: 6 });
origin.endAfter = origin.firstSequence + total - 1;
const root = await mkdtemp(join(tmpdir(), 'follower-memory-'));
const store = new FilesystemObjectStore(root);
const fetcher = new SegmentFetcher({ limits: DEFAULT_INGEST_LIMITS, clock, allowPrivateHosts: new Set(['127.0.0.1']) });
const sink = await ArchiveSink.open(store, 'b/', { kind: 'live', source: origin.liveUrl }, { clock });
const follower = new HlsFollower({ url: origin.liveUrl, sink, fetcher, clock });

const rows: string[] = [];
const sample = (label: string) => {
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  rows.push(`${label.padStart(6)} segments  rss ${mb(rss).padStart(6)} MB  heap ${mb(heapUsed).padStart(6)} MB  archived ${mb(sink.totals.bytes).padStart(7)} MB`);
};
sample('0');
let archived = 0;
follower.on('entry', () => {
  archived++;
  if (archived % Math.ceil(total / 10) === 0) sample(String(archived));
});
const startedAt = performance.now();
const outcome = await clock.runWhileIdle(follower.run());
const seconds = (performance.now() - startedAt) / 1000;
sample(String(archived));
console.log(rows.join('\n'));
console.log(`${outcome.state}: ${outcome.totals.segments} segments, ${mb(outcome.totals.bytes)} MB, ${outcome.totals.durationS.toFixed(0)} s of media in ${seconds.toFixed(1)} s (${(outcome.totals.segments / seconds).toFixed(0)} segments/s)`);
fetcher.close();
await origin.close();
await rm(root, { recursive: true, force: true });
