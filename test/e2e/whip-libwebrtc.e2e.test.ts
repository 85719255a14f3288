import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFfprobe } from '../../server/src/media/index.js';
import { eventually } from '../support/eventually.js';
import { startWhipTestServer, type WhipTestServer } from '../support/whip-test-server.js';
import { publishWithLibwebrtc, type WhipPublication, type WhipPublishOptions } from '../support/whip-wrtc-publisher.js';

/**
 * A WHIP client that is not ours (Google's libwebrtc, through `@roamhq/wrtc`) publishes to the
 * real server; the live ladder appears in the sink (ffprobed), DELETE ends it, the signals fire
 * once each; a publisher whose media stops is ended by the media timeout.
 */
describe('WHIP go-live from libwebrtc into our origin', () => {
  let server: WhipTestServer;
  before(async () => {
    server = await startWhipTestServer({ env: { ORIGIN_MEDIA_TIMEOUT_MS: '3000' } });
  });
  after(async () => {
    await server.close();
  });

  /** A libwebrtc publication the origin answered (201) and made live. */
  interface LivePublication {
    readonly publication: WhipPublication;
    readonly sessionId: string;
    readonly online: Awaited<ReturnType<typeof firstOnline>>;
  }

  const firstOnline = (sessionId: string) =>
    eventually(() => server.collaborators.signals.onlineFor(sessionId)[0], 'the session to go live', 40_000, { intervalMs: 100 });

  /**
   * Publishes with libwebrtc, waits for the session to go live and runs `body`; then closes the
   * publisher and ends the session whatever failed, so the next test's offer for the channel is
   * not a 409.
   */
  async function whilePublishing(options: WhipPublishOptions, body: (live: LivePublication) => Promise<void>): Promise<void> {
    const publication = await publishWithLibwebrtc(server.whipUrl(), await server.grant(), options);
    try {
      assert.equal(publication.status, 201, publication.body);
      const sessionId = publication.location!.split('/').at(-1)!;
      await body({ publication, sessionId, online: await firstOnline(sessionId) });
    } finally {
      publication.close();
      if (publication.location) await fetch(`${server.url}${publication.location}`, { method: 'DELETE' }).catch(() => undefined);
    }
  }

  it('publishes for about 10 s: a 2 s fMP4 ladder by the source size (360p, 240p) with audio, DELETE ends it, online and offline once', { timeout: 90_000 }, async () => {
    const startedAt = Date.now();
    await whilePublishing({ width: 640, height: 360 }, async ({ publication, sessionId, online }) => {
      const signals = server.collaborators.signals;
      const liveAfterMs = Date.now() - startedAt;
      assert.equal(online.state, 'live');
      assert.deepEqual(online.video, { codec: 'vp8', width: 640, height: 360 });
      assert.deepEqual(online.audio, { codec: 'opus' });
      const sink = server.collaborators.sinks.get(sessionId)!;
      await eventually(() => sink.handed.filter((path) => path.startsWith('360p/seg-')).length >= 4, 'four 360p segments', 40_000, { intervalMs: 200 });
      const deleteAt = Date.now();
      const ended = await fetch(`${server.url}${publication.location}`, { method: 'DELETE' });
      assert.equal(ended.status, 200);
      const deleteMs = Date.now() - deleteAt;
      const offline = await eventually(() => signals.offlineFor(sessionId)[0], 'the end signalled', 20_000);
      assert.equal(offline.ended_reason, 'deleted');
      assert.equal(signals.onlineFor(sessionId).length, 1);
      assert.equal(signals.offlineFor(sessionId).length, 1);
      assert.ok(sink.closed);

      const master = await readFile(join(sink.directory, 'master.m3u8'), 'utf8');
      assert.match(master, /RESOLUTION=640x360,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
      assert.match(master, /RESOLUTION=426x240/);
      assert.match(master, /BANDWIDTH=\d+/);
      assert.doesNotMatch(master, /1280x720/, 'never upscaled');
      const media = await readFile(join(sink.directory, '360p', 'index.m3u8'), 'utf8');
      assert.match(media, /#EXT-X-TARGETDURATION:2\n/);
      assert.match(media, /#EXT-X-INDEPENDENT-SEGMENTS/);
      assert.match(media, /#EXT-X-PROGRAM-DATE-TIME:/);
      // ffmpeg's own last playlist (after SIGINT: EXT-X-ENDLIST, the last segment) reached the sink, and every segment it names.
      assert.match(media, /#EXT-X-ENDLIST\n$/, media);
      for (const uri of media.split('\n').filter((line) => line.endsWith('.m4s'))) assert.ok(sink.handed.includes(`360p/${uri}`), `${uri} handed`);
      const durations = [...media.matchAll(/#EXTINF:([\d.]+),/g)].map((match) => Number(match[1]));
      assert.ok(durations.slice(0, -1).every((duration) => Math.abs(duration - 2) < 0.05), `2 s segments: ${durations.join(', ')}`);
      for (const path of sink.handed.filter((handed) => handed.endsWith('.m4s'))) {
        const playlistAt = sink.handed.indexOf(`${path.split('/')[0]}/index.m3u8`);
        assert.ok(playlistAt === -1 || sink.handed.indexOf(path) < sink.handed.lastIndexOf(`${path.split('/')[0]}/index.m3u8`), `${path} before its playlist`);
      }

      const { stdout } = await runFfprobe(['-v', 'error', '-protocol_whitelist', 'file', '-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', join(sink.directory, 'master.m3u8')], { timeoutMs: 30_000 });
      const streams = (JSON.parse(stdout.toString('utf8')) as { streams: { codec_type: string; codec_name: string; width?: number; height?: number }[] }).streams;
      const videos = streams.filter((stream) => stream.codec_type === 'video').map((stream) => `${stream.codec_name} ${stream.width}x${stream.height}`);
      assert.deepEqual([...new Set(videos)].sort(), ['h264 426x240', 'h264 640x360']);
      assert.ok(streams.some((stream) => stream.codec_type === 'audio' && stream.codec_name === 'aac'));
      console.log(`# offer to live (master playlist stored): ${liveAfterMs} ms; DELETE answered in ${deleteMs} ms`);
    });
  });

  /** Publishes, stops the media (as the element ends: media first, then the DELETE), and checks the DELETE ends ffmpeg at once with its final playlist. */
  async function deleteAfterMediaStopped(what: string, audio: boolean): Promise<void> {
    await whilePublishing({ width: 640, height: 360, audio }, async ({ publication, sessionId }) => {
      const sink = server.collaborators.sinks.get(sessionId)!;
      await eventually(() => sink.handed.filter((path) => path.startsWith('360p/seg-')).length >= 2, 'two 360p segments', 40_000, { intervalMs: 200 });
      // ffmpeg then waits for input that never comes, unless the session wakes it.
      publication.stopMedia();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const deleteAt = Date.now();
      assert.equal((await fetch(`${server.url}${publication.location}`, { method: 'DELETE' })).status, 200);
      const deleteMs = Date.now() - deleteAt;
      console.log(`# ${what}: DELETE after the media stopped answered in ${deleteMs} ms`);
      assert.ok(deleteMs < 5_000, `DELETE took ${deleteMs} ms (ffmpeg's own input timeout is 10 s)`);
      const media = await readFile(join(sink.directory, '360p', 'index.m3u8'), 'utf8');
      assert.match(media, /#EXT-X-ENDLIST\n$/, media);
      for (const uri of media.split('\n').filter((line) => line.endsWith('.m4s'))) assert.ok(sink.handed.includes(`360p/${uri}`), `${uri} handed`);
    });
  }

  it('a DELETE after the publisher stopped sending ends at once (its last Opus packet sent again wakes ffmpeg), and ffmpeg’s final playlist (EXT-X-ENDLIST) still reaches the sink', { timeout: 90_000 }, () =>
    deleteAfterMediaStopped('video and audio', true));

  it('a video-only publisher that stopped sending: its DELETE ends at once too (its last keyframe sent again wakes ffmpeg), with the final playlist', { timeout: 90_000 }, () =>
    deleteAfterMediaStopped('video only', false));

  it('plans the ladder again when the picture grows before it is live (an encoder that starts at 320x180): the 640x360 ladder, nothing of the small one left', { timeout: 90_000 }, async () => {
    await whilePublishing({ width: 320, height: 180, grow: { width: 640, height: 360, afterMs: 1500 } }, async ({ publication, sessionId, online }) => {
      const signals = server.collaborators.signals;
      assert.deepEqual(online.video, { codec: 'vp8', width: 640, height: 360 }, 'live with the grown picture');
      const sink = server.collaborators.sinks.get(sessionId)!;
      const discarded = sink.discarded.flat();
      assert.equal(sink.discarded.length, 1, 'one restart: the 320x180 start was planned, then thrown away');
      assert.ok(discarded.every((path) => !path.startsWith('360p/') && path !== 'master.m3u8'), `only the small ladder was thrown away: ${discarded.join(', ')}`);
      await eventually(() => sink.handed.filter((path) => path.startsWith('360p/seg-')).length >= 2, 'two 360p segments', 40_000, { intervalMs: 200 });
      assert.equal((await fetch(`${server.url}${publication.location}`, { method: 'DELETE' })).status, 200);
      await eventually(() => signals.offlineFor(sessionId)[0], 'the end signalled', 20_000);
      const master = await readFile(join(sink.directory, 'master.m3u8'), 'utf8');
      const sizes = [...master.matchAll(/RESOLUTION=(\d+x\d+)/g)].map((match) => match[1]);
      assert.deepEqual(sizes, ['640x360', '426x240'], master);
      assert.ok(sink.handed.every((path) => path === 'master.m3u8' || /^(360p|240p|audio)\//.test(path)), `only the grown ladder's files: ${[...new Set(sink.handed.map((path) => path.split('/')[0]))].join(', ')}`);
      for (const path of discarded) {
        if (!sink.handed.includes(path)) await assert.rejects(readFile(join(sink.directory, path)), { code: 'ENOENT' }, `${path} removed`);
      }
    });
  });

  it('plans the ladder from the picture the offer declares (RFC 6236 imageattr) when the encoder starts below it and grows after going live', { timeout: 90_000 }, async () => {
    await whilePublishing({ width: 320, height: 180, declare: { width: 640, height: 360 }, grow: { width: 640, height: 360, afterMs: 6000 } }, async ({ sessionId, online }) => {
      assert.deepEqual(online.video, { codec: 'vp8', width: 320, height: 180 }, 'live before the picture grew');
      const sink = server.collaborators.sinks.get(sessionId)!;
      assert.equal(sink.discarded.length, 0, 'planned once, from the declaration');
      const master = await readFile(join(sink.directory, 'master.m3u8'), 'utf8');
      assert.deepEqual([...master.matchAll(/RESOLUTION=(\d+x\d+)/g)].map((match) => match[1]), ['640x360', '426x240'], master);
      await eventually(() => sink.handed.filter((path) => path.startsWith('360p/seg-')).length >= 4, 'four 360p segments (past the growth)', 40_000, { intervalMs: 200 });
    });
  });

  it('ends a session whose media stops (media-timeout) and frees the channel', { timeout: 60_000 }, async () => {
    await whilePublishing({ width: 320, height: 180, audio: false }, async ({ publication, sessionId }) => {
      const signals = server.collaborators.signals;
      publication.stopMedia();
      const offline = await eventually(() => signals.offlineFor(sessionId)[0], 'the media timeout', 20_000, { intervalMs: 100 });
      assert.equal(offline.ended_reason, 'media-timeout');
      assert.equal((await fetch(`${server.url}${publication.location}`, { method: 'DELETE' })).status, 404, 'gone already');
    });
  });
});
