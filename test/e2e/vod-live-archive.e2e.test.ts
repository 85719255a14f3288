/**
 * Issue 21, "what must be shown": a 10-minute broadcast served as a growing live HLS playlist is
 * archived while LIVE and becomes a 3-rung ladder that ffmpeg decodes end to end and hls.js
 * plays in Chromium, all faster than real time.
 *
 * The real path: Twitch webhooks into the test server (LIVE, then OFFLINE after the grace
 * window), a `VodCapture` replica following the channel's `playback.hls` with `HlsFollower`, a
 * `VodWorker` replica turning the archive into the ladder, and the server's own `/vod/` route
 * serving it. The broadcast is 10 minutes of real H.264/AAC made ahead by ffmpeg (cached per
 * shape, see test/support/broadcast-segments.ts) and published by the fake HLS origin on a
 * `ManualClock`: the follower's waits between polls are where time jumps, so each poll finds
 * the next segment in a sliding window as a live origin would show it, 10 minutes in seconds.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type HlsJs from 'hls.js';
import type { Browser } from 'playwright-core';
import { liveMetadataSchema } from '@live-upload/schema';
import { runFfmpeg, runFfprobe } from '../../server/src/media/index.js';
import { createLogger } from '../../server/src/observability/index.js';
import { FilesystemObjectStore } from '../../server/src/storage/index.js';
import { VodCapture } from '../../server/src/vod-capture/index.js';
import { readArchive, type ArchiveEntry } from '../../server/src/vod-ingest/index.js';
import { VodSlots, VodStore, VodWorker, vodArchivePrefix, type VodRecord } from '../../server/src/vod-jobs/index.js';
import { HlsOrigin } from '../fakes/hls-origin/hls-origin.js';
import { ManualClock } from '../fakes/hls-origin/manual-clock.js';
import { broadcastSegments, type BroadcastShape } from '../support/broadcast-segments.js';
import { launchChromium } from '../support/browser.js';
import { eventually } from '../support/eventually.js';
import { withTimeout } from '../support/with-timeout.js';
import { TEST_BROADCASTER, TEST_CHANNEL, startTestServer, type TestServer } from '../support/test-server.js';

/** 10 minutes at 360p, 10 fps, 4 s segments: 150 segments, about 37 MB. */
const BROADCAST: BroadcastShape = { seconds: 600, width: 640, height: 360, fps: 10, segmentS: 4, videoKbps: 400 };
const RUNGS = [360, 240, 144];
/** The origin's first media sequence number, as a long-running encoder's would not be 0. */
const FIRST_SEQUENCE = 1000;

const PAGE = `<!doctype html><meta charset="utf-8"><title>replay</title><video id="video" muted playsinline width="640" height="360"></video><script src="/hls.min.js"></script>`;

describe('VOD of a live broadcast (real ffmpeg, hls.js in Chromium)', () => {
  let server: TestServer;
  let origin: HlsOrigin;
  let clock: ManualClock;
  let capture: VodCapture;
  let worker: VodWorker;
  let page: Server;
  let pageUrl: string;
  let browser: Browser | undefined;
  const startedAt = performance.now();
  const elapsedS = () => Math.round((performance.now() - startedAt) / 100) / 10;

  before(async () => {
    const broadcast = await broadcastSegments(BROADCAST);
    clock = new ManualClock();
    origin = await HlsOrigin.start({ clock, segments: broadcast.segments, windowSize: 6, firstSequence: FIRST_SEQUENCE });
    // The encoder stops after the last segment: the playlist then carries EXT-X-ENDLIST (no loop around).
    origin.endAfter = FIRST_SEQUENCE + broadcast.segments.length - 1;
    // The server's own capture and VOD workers are off: the replicas below are made here, on its bus and media store.
    server = await startTestServer({ graceMs: 500, env: { WORKERS: 'moderation', OUTBOUND_ALLOW_PRIVATE_HOSTS: '127.0.0.1' } });
    const media = new FilesystemObjectStore(server.mediaDir);
    const logger = createLogger({ level: 'silent' });
    capture = await VodCapture.open({
      bus: server.running.bus,
      channels: server.running.channels,
      media,
      source: { allowPrivateHosts: new Set(['127.0.0.1']) },
      logger,
      clock,
      leaseMs: 4_000,
      checkEveryMs: 500,
    });
    worker = new VodWorker({
      bus: server.running.bus,
      vods: await VodStore.open(server.running.bus),
      slots: await VodSlots.open(server.running.bus),
      media,
      stagingDir: `${server.mediaDir}/.staging`,
      logger,
      concurrency: 1,
      perPublisherLimit: 1,
      sourcePolicy: { allowPrivateHosts: new Set() },
      ladder: { rungs: RUNGS, segmentS: BROADCAST.segmentS, preset: 'ultrafast', storyboard: { intervalS: 20 } },
      progressIntervalMs: 500,
    });
    await capture.start();
    await worker.start();

    // The page and hls.js come from an origin of the test's; the replay from the server's /vod/ (any-origin CORS).
    const hlsJs = await readFile(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
    page = createServer((request, response) => {
      if (request.url === '/hls.min.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
      else if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await capture?.stop();
    await server?.close();
    await origin?.close();
    await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)));
  });

  it('archives 10 minutes of live HLS as they appear and publishes a 3-rung ladder that ffmpeg and hls.js play', async (t) => {
    const segmentCount = Math.round(BROADCAST.seconds / BROADCAST.segmentS);
    const response = await server.request(`/api/v1/channels/${TEST_CHANNEL}`, {
      method: 'PUT',
      admin: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ vod: 'public', playback: { hls: origin.liveUrl }, providers: { twitch: { user_id: TEST_BROADCASTER.id, login: TEST_BROADCASTER.login } } }),
    });
    assert.ok(response.ok, `channel update answered ${response.status}`);

    // Done once the broadcast's last sequence is accounted for (archived, or a gap: the assertions below tell which).
    const lastSequence = FIRST_SEQUENCE + segmentCount - 1;
    const entries: ArchiveEntry[] = [];
    const allArchived = new Promise<void>((resolve) => {
      capture.on('entry', ({ entry }) => {
        entries.push(entry);
        if ((entry.kind === 'segment' ? entry.sequence : entry.toSequence) >= lastSequence) resolve();
      });
    });
    await server.goLive('Ten minutes live');
    const canonicalId = await eventually(async () => {
      const record = liveMetadataSchema.parse(await (await server.request(`/api/v1/channels/${TEST_CHANNEL}`)).json());
      return record.status === 'live' && record.canonical_id;
    }, 'the channel to be LIVE');
    await eventually(() => capture.following.includes(canonicalId), 'the capture to follow the broadcast');

    // The broadcast's 10 minutes, on the origin's clock: it moves whenever the follower waits for its next poll.
    const archiveStarted = performance.now();
    await withTimeout(clock.runWhileIdle(allArchived), 120_000, () => `the archive to reach sequence ${lastSequence} (${entries.length} entries so far)`);
    const archiveS = (performance.now() - archiveStarted) / 1000;
    t.diagnostic(`archived ${segmentCount} live segments (${BROADCAST.seconds} s of broadcast) in ${archiveS.toFixed(1)} s (at ${elapsedS()} s)`);
    assert.deepEqual(
      entries.map((entry) => (entry.kind === 'segment' ? entry.sequence : `gap ${entry.fromSequence}-${entry.toSequence}`)),
      Array.from({ length: segmentCount }, (_, i) => FIRST_SEQUENCE + i),
      'every segment archived in order, no gap',
    );
    for (let sequence = FIRST_SEQUENCE; sequence < FIRST_SEQUENCE + segmentCount; sequence++) {
      assert.equal(origin.segmentRequests.get(sequence), 1, `segment ${sequence} fetched once`);
    }
    const archive = await readArchive(new FilesystemObjectStore(server.mediaDir), vodArchivePrefix(canonicalId));
    assert.equal(archive?.totals.segments, segmentCount);
    assert.ok(Math.abs(archive.totals.durationS - BROADCAST.seconds) < 0.5, `archived ${archive.totals.durationS} s`);

    // OFFLINE after the grace window: the capture ends the archive and enqueues the job; the worker makes the ladder.
    await server.goOffline();
    const vods = await VodStore.open(server.running.bus);
    const transcodeStarted = performance.now();
    const record: VodRecord = await eventually(
      async () => {
        const current = await vods.get(canonicalId);
        return current?.state === 'published' || current?.state === 'failed' ? current : undefined;
      },
      'the replay published',
      240_000,
      { intervalMs: 200 },
    );
    assert.equal(record.state, 'published', JSON.stringify(record.failure));
    t.diagnostic(`offline -> published in ${((performance.now() - transcodeStarted) / 1000).toFixed(1)} s (at ${elapsedS()} s)`);
    assert.ok(Math.abs(record.duration_s! - BROADCAST.seconds) < 1, `replay duration ${record.duration_s}`);
    assert.deepEqual(
      record.renditions?.map((rendition) => `${rendition.width}x${rendition.height}`),
      ['640x360', '426x240', '256x144'],
    );

    // ffmpeg: every rung's playlist (and the shared audio), through the server, is 10 minutes that decode without an error.
    const masterUrl = `${server.url}${record.urls!.master}`;
    const master = await (await fetch(masterUrl)).text();
    const variants = master.split('\n').filter((line) => line.endsWith('/index.m3u8') && !line.startsWith('#'));
    const audio = /#EXT-X-MEDIA:TYPE=AUDIO,.*URI="([^"]+)"/.exec(master)?.[1];
    assert.equal(variants.length, 3, master);
    assert.ok(audio, `an audio rendition in ${master}`);
    const base = masterUrl.slice(0, masterUrl.lastIndexOf('/') + 1);
    const probed = await Promise.all(
      [...variants, audio].map(async (name) => {
        const url = `${base}${name}`;
        const { stdout } = await runFfprobe(['-v', 'error', '-protocol_whitelist', 'http,tcp', '-show_entries', 'format=duration', '-of', 'csv=p=0', '-i', url], { timeoutMs: 60_000 });
        const decoded = await runFfmpeg(['-nostdin', '-v', 'error', '-protocol_whitelist', 'http,tcp', '-i', url, '-f', 'null', '-'], { timeoutMs: 120_000 });
        return { name, durationS: Number(stdout.toString('utf8').trim()), errors: decoded.stderrTail.trim() };
      }),
    );
    t.diagnostic(`ffprobe and a full decode of ${probed.length} playlists done (at ${elapsedS()} s)`);
    for (const { name, durationS, errors } of probed) {
      assert.ok(Math.abs(durationS - BROADCAST.seconds) < 1, `${name}: ffprobe duration ${durationS}`);
      assert.equal(errors, '', `${name}: decode errors`);
    }

    // hls.js in Chromium: three levels; seeked to near the end, playback goes on.
    browser = await launchChromium();
    const tab = await browser.newPage();
    await tab.goto(pageUrl);
    const playback = await tab.evaluate(async (src) => {
      const HlsClass = (window as unknown as { Hls: typeof HlsJs }).Hls;
      const video = document.getElementById('video') as HTMLVideoElement;
      const hls = new HlsClass();
      const fatal: string[] = [];
      hls.on(HlsClass.Events.ERROR, (_event, data) => {
        if (data.fatal) fatal.push(`${data.type}: ${data.details}`);
      });
      const parsed = new Promise<void>((resolve) => hls.once(HlsClass.Events.MANIFEST_PARSED, () => resolve()));
      hls.loadSource(src);
      hls.attachMedia(video);
      await parsed;
      await new Promise<void>((resolve) => (video.readyState >= 1 ? resolve() : video.addEventListener('loadedmetadata', () => resolve(), { once: true })));
      const duration = video.duration;
      const seekTo = duration - 10;
      video.currentTime = seekTo;
      await video.play();
      const deadline = Date.now() + 20_000;
      while (video.currentTime < seekTo + 2 && Date.now() < deadline && fatal.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      return { levels: hls.levels.map((level) => level.height), duration, seekTo, currentTime: video.currentTime, paused: video.paused, fatal };
    }, masterUrl);
    t.diagnostic(`hls.js: ${JSON.stringify(playback)} (at ${elapsedS()} s)`);
    assert.deepEqual(playback.fatal, []);
    assert.deepEqual([...playback.levels].sort((a, b) => b - a), [360, 240, 144]);
    assert.ok(Math.abs(playback.duration - BROADCAST.seconds) < 1, `video.duration ${playback.duration}`);
    assert.ok(playback.currentTime >= playback.seekTo + 2, `playback advanced from ${playback.seekTo} s to ${playback.currentTime} s`);

    // Faster than real time, with room for a loaded machine: the whole walk took a fraction of the broadcast's length.
    assert.ok(elapsedS() < BROADCAST.seconds / 2, `the whole test took ${elapsedS()} s for a ${BROADCAST.seconds} s broadcast`);
  });
});
