import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HlsOrigin } from '../../../test/fakes/hls-origin/hls-origin.js';
import { ManualClock } from '../../../test/fakes/hls-origin/manual-clock.js';
import { sourceSegments, type SourceSegment } from '../../../test/fakes/hls-origin/source-segments.js';
import type { ResolveHost } from '../outbound/index.js';
import { FilesystemObjectStore } from '../storage/index.js';
import { ArchiveSink, DEFAULT_INGEST_LIMITS, HlsFollower, SegmentFetcher, pullVodPlaylist, readArchive, type IngestLimits, type IngestOutcome } from './index.js';

/**
 * Issue 21's hostile sources, each against the fake origin: refused or stopped with a reason,
 * the manifest `failed` with it, and no object of the offending segment (nothing half-written).
 */
describe('hostile HLS sources', () => {
  let segments: SourceSegment[];
  let root: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    segments = await sourceSegments('audio-video', 6);
    root = await mkdtemp(join(tmpdir(), 'vod-ingest-hostile-'));
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(root, { recursive: true, force: true });
  });

  let runs = 0;
  async function setUp(options: { allowPrivateHosts?: ReadonlySet<string>; limits?: Partial<IngestLimits>; resolve?: ResolveHost } = {}) {
    const clock = new ManualClock();
    const origin = await HlsOrigin.start({ clock, segments });
    const store = new FilesystemObjectStore(join(root, `run-${runs++}`));
    const fetcher = new SegmentFetcher({
      limits: { ...DEFAULT_INGEST_LIMITS, ...options.limits },
      clock,
      allowPrivateHosts: options.allowPrivateHosts ?? new Set(['127.0.0.1']),
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
    cleanups.push(async () => {
      fetcher.close();
      await origin.close();
    });
    const sink = (kind: 'live' | 'vod', source: string) => ArchiveSink.open(store, 'b/', { kind, source }, { clock });
    const pull = async (url: string) => pullVodPlaylist({ url, sink: await sink('vod', url), fetcher });
    return { clock, origin, store, fetcher, sink, pull };
  }

  /** The stored segment keys (complete objects only) and that the manifest says failed with `reason`. */
  async function assertFailed(store: FilesystemObjectStore, outcome: IngestOutcome, reason: string): Promise<string[]> {
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.failure?.reason, reason, outcome.failure?.message);
    const archive = await readArchive(store, 'b/');
    assert.equal(archive!.head.state, 'failed');
    assert.equal(archive!.head.failure!.reason, reason);
    const keys: string[] = [];
    for await (const object of store.list('b/segments/')) keys.push(object.key);
    // No temporary file of an abandoned write is left either.
    assert.deepEqual(await readdir(join(store.root, '.writing')).catch(() => []), []);
    return keys;
  }

  it('refuses a playlist of 100,000 segments by its size, before parsing it', async () => {
    const { origin, store, pull } = await setUp();
    const outcome = await pull(origin.hugeUrl);
    await assertFailed(store, outcome, 'playlist_too_large');
    assert.equal(origin.segmentRequests.size, 0);
  });

  it('refuses a playlist of 100,000 segments by its count when the byte cap would let it through', async () => {
    const { origin, store, pull } = await setUp({ limits: { maxPlaylistBytes: 16 * 1024 * 1024 } });
    const startedAt = performance.now();
    const outcome = await pull(origin.hugeUrl);
    assert.match(outcome.failure!.message, /lists 100000 segments; at most 20000/);
    await assertFailed(store, outcome, 'too_many_segments');
    assert.equal(origin.segmentRequests.size, 0);
    assert.ok(performance.now() - startedAt < 5_000);
  });

  it('stops a live broadcast at the per-broadcast segment cap', async () => {
    const { clock, origin, store, fetcher, sink } = await setUp({ limits: { maxSegments: 5 } });
    const follower = new HlsFollower({ url: origin.liveUrl, sink: await sink('live', origin.liveUrl), fetcher, clock });
    const outcome = await clock.runWhileIdle(follower.run());
    const keys = await assertFailed(store, outcome, 'too_many_segments');
    assert.equal(keys.length, 5);
  });

  it('refuses the fake origin itself when loopback is not allowed', async () => {
    const { origin, store, pull } = await setUp({ allowPrivateHosts: new Set() });
    const outcome = await pull(origin.vodUrl);
    assert.match(outcome.failure!.message, /loopback/);
    await assertFailed(store, outcome, 'refused_address');
    assert.equal(origin.segmentRequests.size, 0);
  });

  it('refuses a segment URL to a private address (loopback allowed for the origin only)', async () => {
    const { origin, store, pull } = await setUp();
    origin.segmentUriOverride.set(2, 'http://10.0.0.7/segment.ts');
    const outcome = await pull(origin.vodUrl);
    assert.match(outcome.failure!.message, /10\.0\.0\.7.*private/);
    const keys = await assertFailed(store, outcome, 'refused_address');
    assert.deepEqual(keys, ['b/segments/0000000000000000.ts', 'b/segments/0000000000000001.ts']);
  });

  it('re-checks every redirect hop: a segment redirected to the metadata address is refused', async () => {
    const { origin, store, pull } = await setUp();
    origin.segmentRedirect.set(1, 'http://169.254.169.254/latest/meta-data/');
    const outcome = await pull(origin.vodUrl);
    assert.match(outcome.failure!.message, /169\.254\.169\.254.*link_local/);
    const keys = await assertFailed(store, outcome, 'refused_address');
    assert.equal(keys.length, 1);
  });

  it('refuses a host name that resolves to a private address among public ones, and pins an allowed name to the checked address', async () => {
    const resolve: ResolveHost = async (host) =>
      host === 'cdn.test'
        ? [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.9', family: 4 }]
        : host === 'origin.test'
          ? [{ address: '127.0.0.1', family: 4 }]
          : [];
    const refused = await setUp({ resolve });
    const url = `http://cdn.test:${new URL(refused.origin.baseUrl).port}/vod/index.m3u8`;
    const outcome = await refused.pull(url);
    assert.match(outcome.failure!.message, /cdn\.test .*private/);
    await assertFailed(refused.store, outcome, 'refused_address');

    const allowed = await setUp({ resolve, allowPrivateHosts: new Set(['origin.test']) });
    const pulled = await allowed.pull(`http://origin.test:${new URL(allowed.origin.baseUrl).port}/vod/index.m3u8`);
    assert.equal(pulled.state, 'ended', pulled.failure?.message);
    assert.equal(pulled.totals.segments, 6);
  });

  it('stops a redirect loop after the redirect cap', async () => {
    const { origin, store, pull } = await setUp({ limits: { maxRedirects: 4 } });
    const requests: string[] = [];
    origin.on('request', (path) => requests.push(path));
    const outcome = await pull(origin.loopUrl);
    await assertFailed(store, outcome, 'too_many_redirects');
    assert.equal(requests.length, 5);
  });

  it('stops a segment that never ends at the byte cap, keeping nothing of it', async () => {
    const { origin, store, pull } = await setUp({ limits: { maxSegmentBytes: 512 * 1024 } });
    origin.endlessSegments.add(1);
    const outcome = await pull(origin.vodUrl);
    assert.match(outcome.failure!.message, /segment 1 .* larger than 524288 bytes/);
    const keys = await assertFailed(store, outcome, 'segment_too_large');
    assert.deepEqual(keys, ['b/segments/0000000000000000.ts']);
  });

  it('stops a segment that trickles forever at the time cap', async () => {
    const { clock, origin, store, pull } = await setUp({ limits: { segmentTimeoutMs: 30_000 } });
    origin.stalledSegments.add(2);
    const stalled = once(origin, 'stalled');
    const pulling = pull(origin.vodUrl);
    await stalled;
    clock.advance(29_999);
    assert.equal(clock.deadlines, 1, 'the time cap is still pending');
    clock.advance(1);
    const outcome = await pulling;
    assert.match(outcome.failure!.message, /did not arrive within 30000 ms/);
    const keys = await assertFailed(store, outcome, 'timeout');
    assert.equal(keys.length, 2);
  });

  it('refuses a segment that is an HTML page (content sniffing, whatever the Content-Type says)', async () => {
    const { origin, store, pull } = await setUp();
    origin.htmlSegments.add(3);
    const outcome = await pull(origin.vodUrl);
    assert.match(outcome.failure!.message, /segment 3 .* is not an MPEG-TS, fMP4 or packed-audio segment \(it starts "<!doctype html>/);
    const keys = await assertFailed(store, outcome, 'not_media');
    assert.equal(keys.length, 3);
  });

  it('refuses a playlist URL that answers HTML', async () => {
    const { origin, store, pull } = await setUp();
    origin.htmlSegments.add(0);
    const outcome = await pull(`${origin.baseUrl}/vod/seg-0.ts`);
    await assertFailed(store, outcome, 'not_a_playlist');
  });

  it('the failed archive can be deleted by its prefix', async () => {
    const { origin, store, pull } = await setUp();
    origin.htmlSegments.add(3);
    await pull(origin.vodUrl);
    assert.ok((await store.deletePrefix('b/')) >= 4);
    assert.equal(await readArchive(store, 'b/'), undefined);
  });
});
