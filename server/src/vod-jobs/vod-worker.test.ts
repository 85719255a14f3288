import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import Koa from 'koa';
import { createCanonicalId } from '@live-upload/schema';
import { eventually } from '../../../test/support/eventually.js';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { HlsOrigin } from '../../../test/fakes/hls-origin/hls-origin.js';
import { sourceInitSection, sourceSegments, type SourceKind } from '../../../test/fakes/hls-origin/source-segments.js';
import { STREAMS, SUBJECTS, createMemoryBus, createNatsBus, type Bus, type BusMessage } from '../bus/index.js';
import type { AppState } from '../http/app-state.js';
import { errorHandler } from '../http/middleware/error-handler.js';
import { runFfprobe } from '../media/index.js';
import { createLogger } from '../observability/index.js';
import { FilesystemObjectStore, type ObjectStore } from '../storage/index.js';
import { ArchiveSink, GAP_REASONS, SEGMENT_FORMATS } from '../vod-ingest/index.js';
import { enqueueVodJob } from './enqueue-vod-job.js';
import { vodArchivePrefix, vodOutputPrefix } from './vod-files.js';
import type { VodJob } from './vod-job.js';
import { VOD_OUTPUT_MARKER } from './vod-output.js';
import { vodReplayRoute } from './vod-replay-route.js';
import { VodSlots } from './vod-slots.js';
import { VodStore } from './vod-store.js';
import { VodWorker, type VodProgressEvent } from './vod-worker.js';

const clock = { now: () => Date.now() };
let broadcasts = 0;

/** An archive as the capture side leaves it: `kind` segments, a gap after the second, ended (or failed). */
async function writeArchive(media: ObjectStore, canonicalId: string, kind: SourceKind, state: 'ended' | 'failed' = 'ended'): Promise<string> {
  const prefix = vodArchivePrefix(canonicalId);
  const sink = await ArchiveSink.open(media, prefix, { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock });
  const segments = await sourceSegments(kind, 4);
  const initKey = kind === 'fmp4' ? await sink.putInit('https://origin.example/init.mp4', Readable.from([await sourceInitSection(4)])) : undefined;
  const format = kind === 'fmp4' ? SEGMENT_FORMATS.fragmentedMp4 : SEGMENT_FORMATS.mpegTs;
  for (const [index, segment] of segments.entries()) {
    const sequence = index < 2 ? index : index + 1;
    if (index === 2) {
      await sink.append({ kind: 'gap', fromSequence: 2, toSequence: 2, reason: GAP_REASONS.segmentUnavailable, durationS: 1, durationEstimated: false });
    }
    const key = await sink.putSegment(sequence, format, Readable.from([segment.data]));
    await sink.append({ kind: 'segment', sequence, key, format, durationS: segment.durationS, bytes: segment.data.length, discontinuity: false, discontinuitySequence: 0, ...(initKey ? { initKey } : {}) });
  }
  if (state === 'failed') await sink.fail('source_unavailable', 'the origin went away');
  else await sink.end('stop');
  return prefix;
}

function jobFor(canonicalId: string, startedMs: number): VodJob {
  const [, publisher, slug] = canonicalId.split(':');
  return {
    canonical_id: canonicalId,
    channel: `${publisher}/${slug}`,
    source: { kind: 'live-archive', archive_prefix: vodArchivePrefix(canonicalId) },
    started_at: new Date(startedMs).toISOString(),
    ended_at: new Date(startedMs + 4_000).toISOString(),
    title: 'Evening show',
    requested_at: new Date(startedMs + 5_000).toISOString(),
  };
}

/** A delivery the test hands to `handle()` itself. */
function delivery(job: VodJob): BusMessage & { settled: string[] } {
  const settled: string[] = [];
  return {
    subject: SUBJECTS.vodJobs,
    data: new TextEncoder().encode(JSON.stringify(job)),
    seq: 1,
    deliveryCount: 1,
    settled,
    ack: () => settled.push('ack'),
    nak: () => settled.push('nak'),
    working: () => undefined,
    term: () => settled.push('term'),
  };
}

async function keysUnder(media: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of media.list(prefix)) keys.push(object.key);
  return keys;
}

describeEachBus('VodWorker (real ffmpeg)', (under) => {
  let bus: Bus;
  let dir: string;
  let media: FilesystemObjectStore;
  let vods: VodStore;
  let slots: VodSlots;
  let server: Server;
  let base: string;
  const progress: VodProgressEvent[] = [];

  const newBroadcast = (publisher = `pub${under.kind}`) => {
    const startedMs = Date.now() - 60_000 + broadcasts++;
    return { id: createCanonicalId({ publisher, slug: 'show' }, startedMs), startedMs };
  };
  const worker = (overrides: Partial<ConstructorParameters<typeof VodWorker>[0]> = {}) =>
    new VodWorker({
      bus,
      vods,
      slots,
      media,
      stagingDir: join(dir, 'media', '.staging'),
      logger: createLogger({ level: 'silent' }),
      concurrency: 1,
      perPublisherLimit: 2,
      sourcePolicy: { allowPrivateHosts: new Set() },
      ladder: { rungs: [240], segmentS: 1, preset: 'ultrafast', storyboard: { intervalS: 1, columns: 2, rows: 1 } },
      ackWaitMs: 3_000,
      progressIntervalMs: 100,
      ...overrides,
    });

  before(async () => {
    const url = under.natsUrl();
    bus = url ? await createNatsBus({ url, name: 'vod-worker-test' }) : createMemoryBus();
    await bus.ensureStreams(Object.values(STREAMS));
    dir = await mkdtemp(join(tmpdir(), 'live-upload-vod-worker-'));
    media = new FilesystemObjectStore(join(dir, 'media'));
    vods = await VodStore.open(bus);
    slots = await VodSlots.open(bus);
    bus.subscribe(SUBJECTS.vodProgressAll, (_subject, data) => progress.push(JSON.parse(new TextDecoder().decode(data)) as VodProgressEvent));
    const koa = new Koa<AppState>();
    koa.use(errorHandler());
    koa.use(vodReplayRoute({ vods, media }));
    server = createServer(koa.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes an archived broadcast as a ladder served under /vod, once, and removes the archive', async () => {
    const { id, startedMs } = newBroadcast();
    const job = jobFor(id, startedMs);
    await writeArchive(media, id, 'audio-video');
    const running = worker();
    await running.start();
    try {
      await enqueueVodJob(bus, job, { vods });
      const record = await eventually(async () => {
        const current = await vods.get(id);
        return current?.state === 'published' || current?.state === 'failed' ? current : undefined;
      }, 'the replay published', 30_000);
      assert.equal(record.state, 'published', JSON.stringify(record.failure));
      assert.ok(record.renditions && record.renditions.length >= 1);
      assert.equal(record.renditions[0]!.height, 90);
      assert.ok(record.duration_s! > 3 && record.duration_s! < 5, `duration ${record.duration_s}`);
      assert.equal(record.title, 'Evening show');
      assert.equal(record.progress, undefined);
      // The archive goes right after the record's move.
      await eventually(async () => (await keysUnder(media, vodArchivePrefix(id))).length === 0, 'the archive removed', 10_000);
      assert.deepEqual(await readdir(join(dir, 'media', '.staging')), []);
      assert.ok(progress.some((event) => event.canonical_id === id && event.state === 'published'));

      const master = await fetch(`${base}${record.urls!.master}`);
      assert.equal(master.status, 200);
      assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
      assert.equal(master.headers.get('access-control-allow-origin'), '*');
      const masterText = await master.text();
      const variant = masterText.split('\n').find((line) => line.endsWith('/index.m3u8') && !line.startsWith('#'))!;
      const { stdout } = await runFfprobe(
        ['-v', 'error', '-protocol_whitelist', 'http,tcp', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', '-i', `${base}${record.urls!.master.replace('master.m3u8', variant)}`],
        { timeoutMs: 20_000 },
      );
      assert.equal(stdout.toString('utf8').trim().split('\n')[0], 'h264,160,90');
      assert.equal((await fetch(`${base}${record.urls!.poster}`)).headers.get('content-type'), 'image/jpeg');
      assert.match(await (await fetch(`${base}${record.urls!.storyboard}`)).text(), /^WEBVTT/);

      // A redelivery after completion changes nothing.
      const marker = await media.head(`${vodOutputPrefix(id)}${VOD_OUTPUT_MARKER}`);
      const again = delivery(job);
      await running.handle(again);
      assert.deepEqual(again.settled, []);
      assert.deepEqual(await vods.get(id), record);
      assert.deepEqual(await media.head(`${vodOutputPrefix(id)}${VOD_OUTPUT_MARKER}`), marker);
    } finally {
      await running.stop();
    }
  });

  it('publishes an fMP4 archive (init section, a gap) and a VOD playlist pulled from an origin', async () => {
    const origin = await HlsOrigin.start({ clock, segments: await sourceSegments('audio-video', 4) });
    origin.discontinuityBefore.add(2);
    const running = worker({ sourcePolicy: { allowPrivateHosts: new Set(['127.0.0.1']) } });
    await running.start();
    try {
      const fmp4 = newBroadcast();
      await writeArchive(media, fmp4.id, 'fmp4');
      await enqueueVodJob(bus, jobFor(fmp4.id, fmp4.startedMs), { vods });
      const pulled = newBroadcast();
      await enqueueVodJob(bus, { ...jobFor(pulled.id, pulled.startedMs), source: { kind: 'vod-playlist', url: origin.vodUrl } }, { vods });
      for (const { id } of [fmp4, pulled]) {
        const record = await eventually(async () => {
          const current = await vods.get(id);
          return current?.state === 'published' || current?.state === 'failed' ? current : undefined;
        }, `${id} published`, 30_000);
        assert.equal(record.state, 'published', JSON.stringify(record.failure));
        assert.ok(record.duration_s! > 3 && record.duration_s! < 5, `duration ${record.duration_s}`);
        await eventually(async () => (await keysUnder(media, vodArchivePrefix(id))).length === 0, 'the archive removed', 10_000);
      }
    } finally {
      await running.stop();
      await origin.close();
    }
  });

  it('a worker stopped mid-transcode leaves the job, and the next worker publishes it once', async () => {
    const { id, startedMs } = newBroadcast();
    await writeArchive(media, id, 'audio-video');
    const first = worker();
    await first.start();
    await enqueueVodJob(bus, jobFor(id, startedMs), { vods });
    // ffmpeg is running once the ladder's staging directory exists (it is made right before).
    const scratch = join(dir, 'media', '.staging', `vod-${id.split(':').slice(1).join('-')}`);
    await eventually(async () => (await readdir(scratch).catch(() => [])).some((name) => name.startsWith('.ladder.partial-')), 'the first worker in ffmpeg', 20_000, { intervalMs: 2 });
    await first.stop();
    assert.equal((await vods.get(id))?.state, 'transcoding');
    assert.equal(await media.head(`${vodOutputPrefix(id)}${VOD_OUTPUT_MARKER}`), undefined);
    assert.deepEqual(await readdir(join(dir, 'media', '.staging')), []);
    assert.deepEqual(await slots.holders(`pub${under.kind}`), []);

    const second = worker();
    await second.start();
    try {
      const record = await eventually(async () => {
        const current = await vods.get(id);
        return current?.state === 'published' || current?.state === 'failed' ? current : undefined;
      }, 'the second worker publishing', 30_000);
      assert.equal(record.state, 'published', JSON.stringify(record.failure));
      // The event follows the record's write, on a subscription of its own: it may come a moment later.
      await eventually(() => progress.some((event) => event.canonical_id === id && event.state === 'published'), 'the published progress event');
      assert.equal(progress.filter((event) => event.canonical_id === id && event.state === 'published').length, 1);
    } finally {
      await second.stop();
    }
  });

  it('a cancel while transcoding aborts the ladder and leaves nothing behind', async () => {
    const { id, startedMs } = newBroadcast();
    await writeArchive(media, id, 'audio-video');
    const running = worker();
    await running.start();
    try {
      await enqueueVodJob(bus, jobFor(id, startedMs), { vods });
      await eventually(async () => (await vods.get(id))?.state === 'transcoding', 'transcoding', 20_000, { intervalMs: 5 });
      assert.equal((await vods.cancel(id))?.state, 'cancelled');
      await eventually(async () => (await keysUnder(media, vodArchivePrefix(id))).length === 0, 'the archive removed', 20_000);
      await eventually(async () => (await readdir(join(dir, 'media', '.staging'))).length === 0, 'the scratch removed', 20_000);
      assert.deepEqual(await keysUnder(media, vodOutputPrefix(id)), []);
      assert.equal((await vods.get(id))?.state, 'cancelled');
    } finally {
      await running.stop();
    }
  });

  for (const [name, setUp, reason] of [
    ['a failed ingest', (id: string) => writeArchive(media, id, 'audio-video', 'failed'), 'source-failed'],
    ['no archive at all', async () => undefined, 'no-media'],
    ['an audio-only archive', (id: string) => writeArchive(media, id, 'audio-only'), 'no-media'],
  ] as const) {
    it(`records ${name} as failed (${reason}) and writes nothing under vods/`, async () => {
      const { id, startedMs } = newBroadcast();
      await setUp(id);
      const job = jobFor(id, startedMs);
      await enqueueVodJob(bus, job, { vods });
      const message = delivery(job);
      await worker().handle(message);
      const record = await vods.get(id);
      assert.equal(record?.state, 'failed');
      assert.equal(record?.failure?.reason, reason);
      assert.deepEqual(await keysUnder(media, vodOutputPrefix(id)), []);
      assert.deepEqual(await keysUnder(media, vodArchivePrefix(id)), []);
      assert.equal((await fetch(`${base}/vod/${id.split(':').slice(1).join('/')}/master.m3u8`)).status, 404);
    });
  }

  it('refuses a job whose archive is outside vod-archives/ without touching it', async () => {
    const { id, startedMs } = newBroadcast();
    await media.put('elsewhere/keep.txt', 'keep');
    const job: VodJob = { ...jobFor(id, startedMs), source: { kind: 'live-archive', archive_prefix: 'elsewhere/' } };
    await worker().handle(delivery(job));
    assert.equal((await vods.get(id))?.failure?.reason, 'invalid-job');
    assert.ok(await media.head('elsewhere/keep.txt'));
  });

  it('offers a job back when its publisher has every slot taken elsewhere in the fleet', async () => {
    const { id, startedMs } = newBroadcast('busy');
    const job = jobFor(id, startedMs);
    await enqueueVodJob(bus, job, { vods });
    assert.ok(await slots.acquire('busy', 'stream:busy:show:01ARZ3NDEKTSV4RRFFQ69G5FAV', 1, 60_000));
    const message = delivery(job);
    await worker({ perPublisherLimit: 1 }).handle(message);
    assert.deepEqual(message.settled, ['nak']);
    assert.equal((await vods.get(id))?.state, 'queued');
    await slots.release('busy', 'stream:busy:show:01ARZ3NDEKTSV4RRFFQ69G5FAV');
  });

  it('serves only published replays and only the names the ladder writes', async () => {
    const { id, startedMs } = newBroadcast('hostile');
    const path = id.split(':').slice(1).join('/');
    await media.put(`${vodOutputPrefix(id)}master.m3u8`, '#EXTM3U\n');
    await media.put(`${vodOutputPrefix(id)}${VOD_OUTPUT_MARKER}`, '{}');
    await media.put('vod-archives/secret.txt', 'secret');
    await enqueueVodJob(bus, jobFor(id, startedMs), { vods });
    assert.equal((await fetch(`${base}/vod/${path}/master.m3u8`)).status, 404, 'queued is not served');
    await vods.update(id, (current) => current && { ...current, state: 'published' });
    assert.equal((await fetch(`${base}/vod/${path}/master.m3u8`)).status, 200);
    for (const hostile of [
      `/vod/${path}/${VOD_OUTPUT_MARKER}`,
      `/vod/${path}/../../../../vod-archives/secret.txt`,
      `/vod/${path}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/vod-archives/secret.txt`,
      `/vod/${path}/240p/..%2f..%2fmaster.m3u8`,
      `/vod/${path}/.staging/x`,
      `/vod/${path}/240p/segment-1.m4s`,
      `/vod/${path.replace(/[^/]+$/, 'not-a-ulid')}/master.m3u8`,
      `/vod/${path.toUpperCase()}/master.m3u8`,
      `/vod/${path}`,
      `/vod/`,
      `/vod`,
    ]) {
      const response = await fetch(`${base}${hostile}`);
      assert.equal(response.status, 404, hostile);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'not_found', hostile);
    }
    assert.equal((await fetch(`${base}/vod/${path}/master.m3u8`, { method: 'DELETE' })).status, 405);
  });
});
