import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HlsOrigin } from '../../../test/fakes/hls-origin/hls-origin.js';
import { ManualClock } from '../../../test/fakes/hls-origin/manual-clock.js';
import { sourceInitSection, sourceSegments, type SourceSegment } from '../../../test/fakes/hls-origin/source-segments.js';
import { FilesystemObjectStore } from '../storage/index.js';
import {
  ArchiveSink,
  DEFAULT_INGEST_LIMITS,
  HlsFollower,
  SegmentFetcher,
  readArchive,
  type ArchiveEntry,
  type ArchiveGapEntry,
  type ArchiveSegmentEntry,
  type IngestLimits,
} from './index.js';

/** The fake origin listens on 127.0.0.1: allowed here, as OUTBOUND_ALLOW_PRIVATE_HOSTS would. */
const LOOPBACK = new Set(['127.0.0.1']);

interface Rig {
  readonly clock: ManualClock;
  readonly origin: HlsOrigin;
  readonly store: FilesystemObjectStore;
  /** A fetcher on the rig's clock, loopback allowed, closed after the suite. */
  fetcher(limits?: Partial<IngestLimits>): SegmentFetcher;
}

async function entriesOf(store: FilesystemObjectStore, prefix: string): Promise<ArchiveEntry[]> {
  const archive = await readArchive(store, prefix);
  const entries: ArchiveEntry[] = [];
  for await (const entry of archive!.entries()) entries.push(entry);
  return entries;
}

const segmentsOf = (entries: ArchiveEntry[]) => entries.filter((entry): entry is ArchiveSegmentEntry => entry.kind === 'segment');
const gapsOf = (entries: ArchiveEntry[]) => entries.filter((entry): entry is ArchiveGapEntry => entry.kind === 'gap');

describe('HlsFollower', () => {
  let segments: SourceSegment[];
  let root: string;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    segments = await sourceSegments('audio-video', 6);
    root = await mkdtemp(join(tmpdir(), 'vod-ingest-follower-'));
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  async function rig(name: string, source = segments, windowSize = 4, initSection?: Buffer): Promise<Rig> {
    const clock = new ManualClock();
    const origin = await HlsOrigin.start({ clock, segments: source, windowSize, ...(initSection ? { initSection } : {}) });
    const store = new FilesystemObjectStore(join(root, name));
    const fetchers: SegmentFetcher[] = [];
    cleanups.push(async () => {
      for (const fetcher of fetchers) fetcher.close();
      await origin.close();
    });
    return {
      clock,
      origin,
      store,
      fetcher: (limits = {}) => {
        const fetcher = new SegmentFetcher({ limits: { ...DEFAULT_INGEST_LIMITS, ...limits }, clock, allowPrivateHosts: LOOPBACK });
        fetchers.push(fetcher);
        return fetcher;
      },
    };
  }

  async function follow(r: Rig, prefix: string, options: { url?: string; limits?: Partial<IngestLimits>; entriesPerPage?: number } = {}) {
    const fetcher = r.fetcher(options.limits);
    const sink = await ArchiveSink.open(r.store, prefix, { kind: 'live', source: options.url ?? r.origin.liveUrl }, { clock: r.clock, ...(options.entriesPerPage ? { entriesPerPage: options.entriesPerPage } : {}) });
    const follower = new HlsFollower({ url: options.url ?? r.origin.liveUrl, sink, fetcher, clock: r.clock });
    return { follower, sink };
  }

  it('archives each new segment once through rollover and discontinuities, and ends at EXT-X-ENDLIST', async () => {
    const r = await rig('plain');
    r.origin.endAfter = 100 + 13; // 14 segments: the 6-segment source loops twice (two wrap discontinuities)
    r.origin.discontinuityBefore.add(104);
    const { follower } = await follow(r, 'b1/');
    const refreshes: boolean[] = [];
    follower.on('refresh', (refresh) => refreshes.push(refresh.changed));
    const outcome = await r.clock.runWhileIdle(follower.run());

    assert.equal(outcome.state, 'ended');
    assert.equal(outcome.endedBy, 'endlist');
    const entries = await entriesOf(r.store, 'b1/');
    const archived = segmentsOf(entries);
    assert.deepEqual(archived.map((entry) => entry.sequence), Array.from({ length: 14 }, (_, i) => 100 + i));
    assert.equal(gapsOf(entries).length, 0);
    assert.deepEqual(archived.filter((entry) => entry.discontinuity).map((entry) => entry.sequence), [104, 106, 112]);
    assert.ok(archived.every((entry) => entry.format === 'mpeg_ts' && entry.programDateTime !== undefined));
    for (let sequence = 100; sequence <= 113; sequence++) assert.equal(r.origin.segmentRequests.get(sequence), 1, `segment ${sequence} fetched once`);
    // Byte-identical to the source.
    const stored = await r.store.get(`b1/${archived[1]!.key}`);
    const bytes = Buffer.concat(await stored!.body.toArray());
    assert.deepEqual(bytes, segments[1]!.data);
    assert.equal(outcome.totals.segments, 14);
    assert.equal(outcome.totals.bytes, archived.reduce((sum, entry) => sum + entry.bytes, 0));
    // It polled at the target-duration cadence: unchanged playlists happen (half-duration re-polls) but are a minority.
    assert.ok(refreshes.filter(Boolean).length >= 13, `changed refreshes: ${refreshes.join(',')}`);
  });

  it('polls at the target duration after a change and at half of it when nothing changed (RFC 8216 6.3.4)', async () => {
    const r = await rig('cadence');
    r.origin.endAfter = 105;
    const { follower } = await follow(r, 'b/');
    const times: { at: number; changed: boolean }[] = [];
    follower.on('refresh', (refresh) => times.push({ at: r.clock.now(), changed: refresh.changed }));
    await r.clock.runWhileIdle(follower.run());
    const targetMs = r.origin.targetDurationS * 1000;
    assert.ok(times.length >= 6 && times.some((time) => !time.changed), `refreshes: ${JSON.stringify(times)}`);
    for (let i = 1; i < times.length; i++) {
      const waited = times[i]!.at - times[i - 1]!.at;
      assert.equal(waited, times[i - 1]!.changed ? targetMs : targetMs / 2, `wait before refresh ${i}`);
    }
  });

  it('records a gap with the missing sequence numbers when refreshes were missed and the window moved past them', async () => {
    const r = await rig('missed', segments, 3);
    r.origin.endAfter = 120;
    const { follower } = await follow(r, 'b/');
    const seen: ArchiveEntry[] = [];
    follower.on('entry', (entry) => seen.push(entry));
    const run = follower.run();
    // Let it archive a few segments, then let 10 s pass while it is not looking.
    await r.clock.runWhileIdle(
      (async () => {
        while (seen.length < 3) await new Promise<void>((resolve) => follower.once('entry', () => resolve()));
      })(),
    );
    await r.clock.idle();
    r.clock.advance(10_000);
    const outcome = await r.clock.runWhileIdle(run);

    assert.equal(outcome.state, 'ended');
    const entries = await entriesOf(r.store, 'b/');
    const [gap, ...others] = gapsOf(entries);
    assert.equal(others.length, 0);
    assert.equal(gap!.reason, 'missed_refresh');
    assert.ok(gap!.toSequence >= gap!.fromSequence);
    assert.equal(gap!.durationEstimated, true);
    assert.equal(gap!.durationS, (gap!.toSequence - gap!.fromSequence + 1) * r.origin.targetDurationS);
    // Every sequence number from the first to the last is accounted for exactly once.
    const covered = entries.flatMap((entry) => (entry.kind === 'segment' ? [entry.sequence] : Array.from({ length: entry.toSequence - entry.fromSequence + 1 }, (_, i) => entry.fromSequence + i)));
    assert.deepEqual(covered, Array.from({ length: 21 }, (_, i) => 100 + i));
    assert.equal(outcome.totals.missingSegments, gap!.toSequence - gap!.fromSequence + 1);
  });

  it('retries a segment that answers 404 or 503 with backoff, and records a gap when it never comes', async () => {
    const r = await rig('retries');
    r.origin.endAfter = 106;
    r.origin.failSegment.set(102, { status: 503, times: 2 });
    r.origin.failSegment.set(104, { status: 404, times: Infinity });
    const { follower } = await follow(r, 'b/', { limits: { segmentAttempts: 3, retryDelayMs: 400 } });
    const outcome = await r.clock.runWhileIdle(follower.run());

    assert.equal(outcome.state, 'ended');
    const entries = await entriesOf(r.store, 'b/');
    assert.deepEqual(segmentsOf(entries).map((entry) => entry.sequence), [100, 101, 102, 103, 105, 106]);
    const [gap] = gapsOf(entries);
    assert.equal(gap!.reason, 'segment_unavailable');
    assert.deepEqual([gap!.fromSequence, gap!.toSequence], [104, 104]);
    assert.equal(gap!.durationEstimated, false);
    assert.match(gap!.detail!, /3 tries: .*HTTP 404/);
    assert.equal(r.origin.segmentRequests.get(102), 3);
    assert.equal(r.origin.segmentRequests.get(104), 3);
  });

  it('fails the archive as source_unavailable when too many segments in a row stay missing', async () => {
    const r = await rig('all-missing');
    for (let sequence = 100; sequence < 120; sequence++) r.origin.failSegment.set(sequence, { status: 404, times: Infinity });
    const { follower } = await follow(r, 'b/', { limits: { segmentAttempts: 2, maxConsecutiveGaps: 3 } });
    const outcome = await r.clock.runWhileIdle(follower.run());
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.failure!.reason, 'source_unavailable');
    assert.equal(outcome.totals.gaps, 4);
  });

  it('resumes from the manifest after a crash without re-downloading what it archived', async () => {
    const r = await rig('resume', segments, 6);
    r.origin.endAfter = 109;
    const first = await follow(r, 'b/', { entriesPerPage: 3 });
    let archived = 0;
    first.follower.on('entry', () => archived++);
    // Run until 5 segments are in, then "crash": the follower is abandoned mid-broadcast (its sink never finished).
    await r.clock.runWhileIdle(
      (async () => {
        void first.follower.run();
        while (archived < 5) await new Promise<void>((resolve) => first.follower.once('entry', () => resolve()));
      })(),
    );
    await first.follower.stop().catch(() => undefined);
    // stop() ends the archive; a crash does not. Put the head back to following, as a kill -9 would leave it.
    const head = await readArchive(r.store, 'b/');
    assert.equal(head!.head.state, 'ended');
    await r.store.put('b/manifest.json', JSON.stringify({ ...head!.head, state: 'following', endedBy: undefined }));

    const second = await follow(r, 'b/', { entriesPerPage: 3 });
    assert.equal(second.sink.lastSequence, first.sink.lastSequence);
    const outcome = await r.clock.runWhileIdle(second.follower.run());
    assert.equal(outcome.state, 'ended');
    const entries = await entriesOf(r.store, 'b/');
    assert.deepEqual(segmentsOf(entries).map((entry) => entry.sequence), Array.from({ length: 10 }, (_, i) => 100 + i));
    for (let sequence = 100; sequence <= 109; sequence++) assert.equal(r.origin.segmentRequests.get(sequence), 1, `segment ${sequence} fetched once`);
    assert.equal((await readArchive(r.store, 'b/'))!.head.pageCount, 4);
  });

  it('an ended archive is not followed again', async () => {
    const r = await rig('ended');
    r.origin.endAfter = 101;
    const first = await follow(r, 'b/');
    await r.clock.runWhileIdle(first.follower.run());
    const requests = [...r.origin.segmentRequests.values()].reduce((a, b) => a + b, 0);
    const again = await follow(r, 'b/');
    const outcome = await again.follower.run();
    assert.equal(outcome.state, 'ended');
    assert.equal([...r.origin.segmentRequests.values()].reduce((a, b) => a + b, 0), requests);
  });

  it('stop() ends the archive with what it holds', async () => {
    const r = await rig('stop');
    const { follower } = await follow(r, 'b/');
    let entries = 0;
    follower.on('entry', () => entries++);
    void follower.run();
    await r.clock.runWhileIdle(
      (async () => {
        while (entries < 3) await new Promise<void>((resolve) => follower.once('entry', () => resolve()));
      })(),
    );
    const outcome = await follower.stop();
    assert.equal(outcome.state, 'ended');
    assert.equal(outcome.endedBy, 'stop');
    assert.ok(outcome.totals.segments >= 3);
  });

  it('follows the highest-bandwidth variant of a master playlist', async () => {
    const r = await rig('master');
    r.origin.endAfter = 102;
    const { follower, sink } = await follow(r, 'b/', { url: r.origin.masterUrl });
    const outcome = await r.clock.runWhileIdle(follower.run());
    assert.equal(outcome.state, 'ended');
    assert.equal(outcome.totals.segments, 3);
    assert.equal(sink.head.mediaUrl, r.origin.liveUrl);
  });

  it('archives an fMP4 (CMAF) source with its init section once, each segment naming it', async () => {
    const r = await rig('fmp4', await sourceSegments('fmp4', 4), 4, await sourceInitSection(4));
    r.origin.endAfter = 105;
    const { follower, sink } = await follow(r, 'b/');
    const outcome = await r.clock.runWhileIdle(follower.run());
    assert.equal(outcome.state, 'ended', JSON.stringify(outcome.failure));
    const archived = segmentsOf(await entriesOf(r.store, 'b/'));
    assert.equal(archived.length, 6);
    assert.ok(archived.every((entry) => entry.format === 'fmp4' && entry.key.endsWith('.m4s') && entry.initKey === 'init/0000.mp4'));
    assert.equal(r.origin.initRequests, 1);
    assert.deepEqual(Object.values(sink.head.initSections), ['init/0000.mp4']);
    const init = await r.store.get('b/init/0000.mp4');
    assert.deepEqual(Buffer.concat(await init!.body.toArray()), await sourceInitSection(4));
  });

  for (const kind of ['audio-only', 'video-only'] as const) {
    it(`accepts a ${kind} source (valid HLS; the ladder must handle the missing track)`, async () => {
      const r = await rig(kind, await sourceSegments(kind, 4));
      r.origin.endAfter = 103;
      const { follower } = await follow(r, 'b/');
      const outcome = await r.clock.runWhileIdle(follower.run());
      assert.equal(outcome.state, 'ended', JSON.stringify(outcome.failure));
      assert.equal(outcome.totals.segments, 4);
    });
  }
});
