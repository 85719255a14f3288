import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../test/fakes/hls-origin/manual-clock.js';
import { sourceSegments, type SourceSegment } from '../../../test/fakes/hls-origin/source-segments.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { ArchiveSink, DEFAULT_INGEST_LIMITS, HlsFollower, SegmentFetcher, readArchive, type ArchiveEntry, type ArchiveSegmentEntry } from './index.js';

/** One segment an encoder published: its media sequence and URI in that encoder's playlist. */
interface Published {
  readonly encoder: string;
  readonly sequence: number;
  readonly uri: string;
  readonly data: Buffer;
  /** When it appears, in seconds from the origin's start. */
  readonly atS: number;
}

/**
 * An origin whose encoder restarts: encoder `a` publishes from media sequence 100, then encoder
 * `b` takes over from media sequence 0 with new segment names and no EXT-X-DISCONTINUITY, as a
 * restarted ffmpeg or OBS writes it. One 1 s segment a second on the test's clock (the restart
 * takes a few seconds), a window of 4 of the current encoder's segments, ENDLIST after the last. `lagEvery`: every so many playlist
 * loads answer the playlist as it was `lagS` seconds ago (a lagging cache or edge).
 */
class RestartingOrigin {
  readonly requests = new Map<string, number>();
  playlistLoads = 0;
  lagEvery = 0;
  lagS = 2;
  private server!: Server;
  private readonly startedAtMs: number;
  url = '';

  constructor(
    private readonly clock: ManualClock,
    private readonly timeline: readonly Published[],
  ) {
    this.startedAtMs = clock.now();
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const path = request.url ?? '/';
      this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
      if (path === '/live.m3u8') {
        this.playlistLoads++;
        const lagging = this.lagEvery > 0 && this.playlistLoads % this.lagEvery === 0;
        response.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(this.playlist(lagging ? this.lagS : 0));
        return;
      }
      const segment = this.timeline.find((published) => `/${published.uri}` === path);
      if (segment) response.writeHead(200, { 'content-type': 'video/mp2t' }).end(segment.data);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/live.m3u8`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private playlist(lagS: number): string {
    const nowS = (this.clock.now() - this.startedAtMs) / 1000 - lagS;
    const published = this.timeline.filter((segment) => segment.atS <= nowS).length;
    const head = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1'];
    if (published === 0) return `${[...head, `#EXT-X-MEDIA-SEQUENCE:${this.timeline[0]!.sequence}`].join('\n')}\n`;
    const last = this.timeline[published - 1]!;
    const window = this.timeline.slice(0, published).filter((segment) => segment.encoder === last.encoder).slice(-4);
    const lines = [...head, `#EXT-X-MEDIA-SEQUENCE:${window[0]!.sequence}`];
    for (const segment of window) lines.push('#EXTINF:1.000,', segment.uri);
    if (published === this.timeline.length) lines.push('#EXT-X-ENDLIST');
    return `${lines.join('\n')}\n`;
  }
}

describe('HlsFollower: a source that restarts its media sequence', () => {
  let segments: SourceSegment[];
  let root: string;
  const LOOPBACK = new Set(['127.0.0.1']);

  before(async () => {
    segments = await sourceSegments('audio-video', 6);
    root = await mkdtemp(join(tmpdir(), 'vod-ingest-restart-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** `a` publishes `before` segments from sequence 100, then `b` (restarted) `afterwards` from 0; `a` only when `afterwards` is 0. */
  function timeline(before: number, afterwards: number): Published[] {
    const of = (encoder: string, first: number, count: number, fromS: number) =>
      Array.from({ length: count }, (_, i) => ({ encoder, sequence: first + i, uri: `${encoder}-${i}.ts`, data: segments[i % segments.length]!.data, atS: fromS + i }));
    return [...of('a', 100, before, 1), ...of('b', 0, afterwards, before + 4)];
  }

  async function follow(name: string, published: Published[], setUp: (origin: RestartingOrigin) => void = () => {}) {
    const clock = new ManualClock();
    const origin = await new RestartingOrigin(clock, published).start();
    setUp(origin);
    const store = new FilesystemObjectStore(join(root, name));
    const fetcher = new SegmentFetcher({ limits: DEFAULT_INGEST_LIMITS, clock, allowPrivateHosts: LOOPBACK });
    const open = async () => {
      const sink = await ArchiveSink.open(store, 'b/', { kind: 'live', source: origin.url }, { clock });
      const follower = new HlsFollower({ url: origin.url, sink, fetcher, clock });
      const restarts: { fromSourceSequence: number; atSequence: number; count: number }[] = [];
      follower.on('restart', (restart) => restarts.push(restart));
      return { sink, follower, restarts };
    };
    const entries = async () => {
      const archive = await readArchive(store, 'b/');
      const all: ArchiveEntry[] = [];
      for await (const entry of archive!.entries()) all.push(entry);
      return { head: archive!.head, all, segments: all.filter((entry): entry is ArchiveSegmentEntry => entry.kind === 'segment') };
    };
    const close = async () => {
      fetcher.close();
      await origin.close();
    };
    return { clock, origin, store, open, entries, close };
  }

  it('goes on archiving after the restart, numbered after the last segment, with a discontinuity where it restarted', async () => {
    const rig = await follow('restart', timeline(6, 6));
    try {
      const { follower, restarts } = await rig.open();
      const outcome = await rig.clock.runWhileIdle(follower.run());
      assert.equal(outcome.state, 'ended', JSON.stringify(outcome.failure));
      assert.equal(outcome.endedBy, 'endlist');
      const { head, all, segments: archived } = await rig.entries();
      assert.deepEqual(archived.map((entry) => entry.sequence), Array.from({ length: 12 }, (_, i) => 100 + i));
      assert.equal(all.length, 12, 'no gap');
      assert.deepEqual(archived.filter((entry) => entry.discontinuity).map((entry) => entry.sequence), [106]);
      assert.deepEqual(head.sourceRestart, { offset: 106, atSequence: 106, count: 1 });
      assert.equal(restarts.length, 1);
      assert.equal(restarts[0]!.atSequence, 106);
      for (const encoder of ['a', 'b']) for (let i = 0; i < 6; i++) assert.equal(rig.origin.requests.get(`/${encoder}-${i}.ts`), 1, `${encoder}-${i}.ts fetched once`);
      // The restarted encoder's segments are in the archive, byte for byte.
      const stored = await rig.store.get(`b/${archived[7]!.key}`);
      assert.deepEqual(Buffer.concat(await stored!.body.toArray()), segments[1]!.data);
    } finally {
      await rig.close();
    }
  });

  it('takes a lagging copy of the playlist (same segments at the same sequences) as stale, before and after a restart', async () => {
    const rig = await follow('lagging', timeline(8, 8), (origin) => {
      origin.lagEvery = 3;
    });
    try {
      const { follower, restarts } = await rig.open();
      const outcome = await rig.clock.runWhileIdle(follower.run());
      assert.equal(outcome.state, 'ended', JSON.stringify(outcome.failure));
      const { all, segments: archived } = await rig.entries();
      assert.ok(rig.origin.playlistLoads >= 12, `playlist loads ${rig.origin.playlistLoads}`);
      assert.equal(restarts.length, 1, 'one restart, however many lagging copies of either timeline');
      assert.deepEqual(archived.map((entry) => entry.sequence), Array.from({ length: 16 }, (_, i) => 100 + i));
      assert.equal(all.length, 16, 'no gap');
      for (const encoder of ['a', 'b']) for (let i = 0; i < 8; i++) assert.equal(rig.origin.requests.get(`/${encoder}-${i}.ts`), 1, `${encoder}-${i}.ts fetched once`);
    } finally {
      await rig.close();
    }
  });

  it('a source that never restarts records none', async () => {
    const rig = await follow('steady', timeline(6, 0), (origin) => {
      origin.lagEvery = 2;
    });
    try {
      const { follower, restarts } = await rig.open();
      const outcome = await rig.clock.runWhileIdle(follower.run());
      assert.equal(outcome.state, 'ended');
      const { head, segments: archived } = await rig.entries();
      assert.deepEqual(archived.map((entry) => entry.sequence), [100, 101, 102, 103, 104, 105]);
      assert.equal(head.sourceRestart, undefined);
      assert.deepEqual(restarts, []);
    } finally {
      await rig.close();
    }
  });

  it('a follower resumed after the restart goes on with the new numbering, fetching nothing again', async () => {
    const rig = await follow('resume', timeline(5, 6));
    try {
      const first = await rig.open();
      let archived = 0;
      first.follower.on('entry', () => archived++);
      void first.follower.run();
      await rig.clock.runWhileIdle(
        (async () => {
          while (archived < 8) await new Promise<void>((resolve) => first.follower.once('entry', () => resolve()));
        })(),
      );
      await first.follower.stop();
      // A crash leaves the head `following`; stop() ended it.
      const { head } = await rig.entries();
      assert.deepEqual(head.sourceRestart, { offset: 105, atSequence: 105, count: 1 });
      await rig.store.put('b/manifest.json', JSON.stringify({ ...head, state: 'following', endedBy: undefined }));

      const second = await rig.open();
      const outcome = await rig.clock.runWhileIdle(second.follower.run());
      assert.equal(outcome.state, 'ended', JSON.stringify(outcome.failure));
      assert.deepEqual(second.restarts, [], 'no second restart');
      const { segments: all } = await rig.entries();
      assert.deepEqual(all.map((entry) => entry.sequence), Array.from({ length: 11 }, (_, i) => 100 + i));
      assert.deepEqual(all.filter((entry) => entry.discontinuity).map((entry) => entry.sequence), [105]);
      for (let i = 0; i < 6; i++) assert.equal(rig.origin.requests.get(`/b-${i}.ts`), 1, `b-${i}.ts fetched once`);
    } finally {
      await rig.close();
    }
  });
});
