/**
 * `kill -9` of the real server (`node --import tsx server/src/main.ts` on NATS) while its VOD
 * worker runs ffmpeg on a broadcast's ladder. Started again on the same NATS and media directory,
 * the job comes back after the ack wait and is published once: the dead worker's scratch is
 * removed, the replay is served, the archive is gone, one `published` progress event.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { STREAMS, createNatsBus, type Bus } from '../../server/src/bus/index.js';
import { STAGING_DIR_NAME } from '../../server/src/publishing/index.js';
import { FilesystemObjectStore } from '../../server/src/storage/index.js';
import { ArchiveSink, SEGMENT_FORMATS } from '../../server/src/vod-ingest/index.js';
import { VodStore, enqueueVodJob, vodArchivePrefix, type VodProgressEvent } from '../../server/src/vod-jobs/index.js';
import { sourceSegments } from '../fakes/hls-origin/source-segments.js';
import { eventually } from '../support/eventually.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { startNatsServer, type NatsServerHandle } from '../support/nats-server.js';

describe('the VOD worker survives kill -9 of the server mid-ladder (NATS)', () => {
  let nats: NatsServerHandle;
  let mediaDir: string;
  let main: MainProcess | undefined;
  let bus: Bus;
  let env: Record<string, string>;

  before(async () => {
    nats = await startNatsServer();
    mediaDir = await mkdtemp(join(tmpdir(), 'live-upload-vod-crash-media-'));
    env = {
      NATS_URL: nats.url,
      MEDIA_DIR: mediaDir,
      ADMIN_TOKEN: 'vod-crash-admin-token-0123456789',
      TWITCH_EVENTSUB_SECRET: 'vod-crash-eventsub-secret',
      UPLOAD_TOKEN_SECRET: 'vod-crash-upload-token-secret-0123456789',
      WORKERS: 'vod',
      DEMO: '0',
      LOG_LEVEL: 'warn',
    };
    main = await startMain(env);
    bus = await createNatsBus({ url: nats.url, name: 'vod-crash-test' });
  });
  after(async () => {
    await main?.stop();
    await bus?.close();
    await nats?.stop();
    await rm(mediaDir, { recursive: true, force: true });
  });

  it('redelivers the job cut off in ffmpeg and publishes it exactly once', async () => {
    const startedMs = Date.now() - 60_000;
    const id = createCanonicalId({ publisher: 'acme', slug: 'crash' }, startedMs);
    const media = new FilesystemObjectStore(mediaDir);
    const prefix = vodArchivePrefix(id);
    const sink = await ArchiveSink.open(media, prefix, { kind: 'live', source: 'https://origin.example/live.m3u8' }, { clock: { now: () => Date.now() } });
    for (const [sequence, segment] of (await sourceSegments('audio-video', 24)).entries()) {
      const key = await sink.putSegment(sequence, SEGMENT_FORMATS.mpegTs, Readable.from([segment.data]));
      await sink.append({ kind: 'segment', sequence, key, format: SEGMENT_FORMATS.mpegTs, durationS: segment.durationS, bytes: segment.data.length, discontinuity: false, discontinuitySequence: 0 });
    }
    await sink.end('stop');
    await enqueueVodJob(bus, { canonical_id: id, channel: 'acme/crash', source: { kind: 'live-archive', archive_prefix: prefix }, started_at: new Date(startedMs).toISOString(), requested_at: new Date().toISOString() });

    const scratch = join(mediaDir, STAGING_DIR_NAME, `vod-${id.split(':').slice(1).join('-')}`);
    await eventually(async () => (await readdir(scratch).catch(() => [])).some((name) => name.startsWith('.ladder.partial-')), 'ffmpeg to start', 60_000, { intervalMs: 2 });
    await main!.kill();
    main = undefined;
    const vods = await VodStore.open(bus);
    assert.equal((await vods.get(id))?.state, 'transcoding');

    main = await startMain(env);
    const record = await eventually(
      async () => {
        const current = await vods.get(id);
        assert.notEqual(current?.state, 'failed', JSON.stringify(current?.failure));
        return current?.state === 'published' ? current : undefined;
      },
      'the replay published after the restart',
      60_000,
      { intervalMs: 250 },
    );
    const master = await fetch(`${main.url}${record.urls!.master}`);
    assert.equal(master.status, 200);
    assert.match(await master.text(), /#EXT-X-STREAM-INF/);
    await eventually(async () => (await media.head(`${prefix}manifest.json`)) === undefined, 'the archive removed', 10_000);
    assert.deepEqual(await readdir(join(mediaDir, STAGING_DIR_NAME)).then((names) => names.filter((name) => name.startsWith('vod-'))), []);
    const events = (await bus.readLatest(STREAMS.vodProgress.name, { limit: 1000 })).map((message) => JSON.parse(new TextDecoder().decode(message.data)) as VodProgressEvent);
    assert.equal(events.filter((event) => event.canonical_id === id && event.state === 'published').length, 1);
  });
});
