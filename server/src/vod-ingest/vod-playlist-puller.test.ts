import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HlsOrigin } from '../../../test/fakes/hls-origin/hls-origin.js';
import { ManualClock } from '../../../test/fakes/hls-origin/manual-clock.js';
import { sourceSegments, type SourceSegment } from '../../../test/fakes/hls-origin/source-segments.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { ArchiveSink, DEFAULT_INGEST_LIMITS, SegmentFetcher, pullVodPlaylist, readArchive, type ArchiveEntry, type IngestLimits } from './index.js';

describe('pullVodPlaylist', () => {
  let segments: SourceSegment[];
  let root: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    segments = await sourceSegments('audio-video', 6);
    root = await mkdtemp(join(tmpdir(), 'vod-ingest-pull-'));
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  let runs = 0;
  async function setUp(limits: Partial<IngestLimits> = {}) {
    const clock = new ManualClock();
    const origin = await HlsOrigin.start({ clock, segments });
    const store = new FilesystemObjectStore(join(root, `run-${runs++}`));
    const fetcher = new SegmentFetcher({ limits: { ...DEFAULT_INGEST_LIMITS, ...limits }, clock, allowPrivateHosts: new Set(['127.0.0.1']) });
    cleanups.push(async () => {
      fetcher.close();
      await origin.close();
    });
    const sink = (url: string) => ArchiveSink.open(store, 'vod/', { kind: 'vod', source: url }, { clock });
    return { clock, origin, store, fetcher, sink };
  }

  it('pulls every segment of a finished playlist once, through redirects, byte for byte', async () => {
    const { origin, store, fetcher, sink } = await setUp();
    origin.discontinuityBefore.add(3);
    const url = origin.redirectedUrl('/vod/index.m3u8', 2);
    const outcome = await pullVodPlaylist({ url, sink: await sink(url), fetcher });
    assert.equal(outcome.state, 'ended');
    assert.equal(outcome.endedBy, 'endlist');
    assert.equal(outcome.totals.segments, 6);
    const total = segments.reduce((sum, segment) => sum + segment.data.length, 0);
    assert.equal(outcome.totals.bytes, total);
    assert.ok(Math.abs(outcome.totals.durationS - segments.reduce((sum, segment) => sum + segment.durationS, 0)) < 1e-6);
    const archive = await readArchive(store, 'vod/');
    const entries: ArchiveEntry[] = [];
    for await (const entry of archive!.entries()) entries.push(entry);
    assert.deepEqual(entries.map((entry) => (entry.kind === 'segment' ? [entry.sequence, entry.discontinuity] : entry.kind)), [
      [0, false], [1, false], [2, false], [3, true], [4, false], [5, false],
    ]);
    for (const [index, entry] of entries.entries()) {
      const read = await store.get(`vod/${(entry as { key: string }).key}`);
      assert.deepEqual(Buffer.concat(await read!.body.toArray()), segments[index]!.data);
    }
  });

  it('refuses a live playlist as not a VOD', async () => {
    const { clock, origin, fetcher, sink } = await setUp();
    clock.advance(5_000);
    const outcome = await pullVodPlaylist({ url: origin.liveUrl, sink: await sink(origin.liveUrl), fetcher });
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.failure!.reason, 'not_a_vod');
    assert.equal(origin.segmentRequests.size, 0);
  });

  it('retries a playlist that is unavailable, then fails as source_unavailable', async () => {
    const { clock, origin, fetcher, sink } = await setUp({ maxPlaylistFailures: 2 });
    const url = `${origin.baseUrl}/missing/index.m3u8`;
    const outcome = await clock.runWhileIdle(pullVodPlaylist({ url, sink: await sink(url), fetcher }));
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.failure!.reason, 'source_unavailable');
    assert.match(outcome.failure!.message, /3 times in a row; last: .*HTTP 404/);
  });

  it('resumes a pull another replica left unfinished after its last sequence', async () => {
    const { origin, store, fetcher, sink } = await setUp();
    origin.htmlSegments.add(3);
    const first = await pullVodPlaylist({ url: origin.vodUrl, sink: await sink(origin.vodUrl), fetcher });
    assert.equal(first.failure!.reason, 'not_media');
    // As if the first replica had died at segment 3 (head still `following`) and the origin was fixed since.
    const { head } = (await readArchive(store, 'vod/'))!;
    await store.put('vod/manifest.json', JSON.stringify({ ...head, state: 'following', failure: undefined }));
    origin.htmlSegments.clear();
    const second = await pullVodPlaylist({ url: origin.vodUrl, sink: await sink(origin.vodUrl), fetcher });
    assert.equal(second.state, 'ended');
    assert.equal(second.totals.segments, 6);
    assert.deepEqual([0, 1, 2, 4, 5].map((sequence) => origin.segmentRequests.get(sequence)), [1, 1, 1, 1, 1]);
    assert.equal(origin.segmentRequests.get(3), 2);
  });

  it('an aborted pull ends with what it holds', async () => {
    const { origin, fetcher, sink } = await setUp();
    const controller = new AbortController();
    let entries = 0;
    const outcome = await pullVodPlaylist({
      url: origin.vodUrl,
      sink: await sink(origin.vodUrl),
      fetcher,
      signal: controller.signal,
      onEntry: () => {
        if (++entries === 2) controller.abort();
      },
    });
    assert.equal(outcome.state, 'ended');
    assert.equal(outcome.endedBy, 'stop');
    assert.equal(outcome.totals.segments, 2);
  });
});
