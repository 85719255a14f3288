import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { vodFixtures, type VodFixtures } from '../../../test/fixtures/vod-fixtures.js';
import { MediaProcessError, runFfprobe } from '../media/index.js';
import { HLS_ARCHIVE_INPUT_FORMATS } from './ladder-input.js';
import { parseMediaPlaylist } from './media-playlist.js';
import { parseStoryboardVtt } from './storyboard.js';
import { LadderRefusedError, removeLadderStaging, transcodeLadder, type LadderProgress, type VodLadder } from './transcode-ladder.js';

/** ffprobe over an HLS playlist we wrote: stream facts and the video keyframe times. */
async function probePlaylist(path: string): Promise<{ width: number; height: number; codec: string; keyframes: number[]; rotation: unknown }> {
  const { stdout } = await runFfprobe(
    ['-v', 'error', '-protocol_whitelist', 'file', '-print_format', 'json', '-select_streams', 'v:0', '-show_streams', '-show_entries', 'packet=pts_time,flags', '-i', `file:${path}`],
    { timeoutMs: 30_000 },
  );
  const parsed = JSON.parse(stdout.toString('utf8')) as {
    streams: { width: number; height: number; codec_name: string; side_data_list?: { rotation?: number }[]; tags?: { rotate?: string } }[];
    packets: { pts_time: string; flags: string }[];
  };
  const stream = parsed.streams[0]!;
  return {
    width: stream.width,
    height: stream.height,
    codec: stream.codec_name,
    keyframes: parsed.packets.filter((packet) => packet.flags.startsWith('K')).map((packet) => Number(packet.pts_time)),
    rotation: stream.side_data_list?.find((entry) => entry.rotation !== undefined)?.rotation ?? stream.tags?.rotate,
  };
}

function masterEntries(text: string): { attributes: Record<string, string>; uri: string }[] {
  const lines = text.trim().split('\n');
  return lines.flatMap((line, i) => {
    if (!line.startsWith('#EXT-X-STREAM-INF:')) return [];
    const attributes = Object.fromEntries([...line.slice(18).matchAll(/([A-Z-]+)=("[^"]*"|[^,]*)/g)].map((match) => [match[1]!, match[2]!.replace(/"/g, '')]));
    return [{ attributes, uri: lines[i + 1]! }];
  });
}

describe('transcodeLadder (real ffmpeg)', () => {
  let fixtures: VodFixtures;
  let workDir: string;

  before(async () => {
    fixtures = await vodFixtures();
    workDir = await mkdtemp(join(tmpdir(), 'live-upload-vod-ladder-'));
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  describe('a 3-rung ladder from an 854x480 source', () => {
    let ladder: VodLadder;
    const progress: LadderProgress[] = [];
    let parent: string;

    before(async () => {
      parent = join(workDir, 'three');
      await mkdir(parent);
      ladder = await transcodeLadder(fixtures.landscape480, join(parent, 'vod'), {
        rungs: [480, 360, 240],
        segmentS: 1,
        storyboard: { intervalS: 1, columns: 3, rows: 1 },
        onProgress: (event) => progress.push(event),
      });
    });

    it('writes three variants, largest first, that ffprobe reads at their planned sizes', async () => {
      assert.deepEqual(
        ladder.renditions.map((rendition) => `${rendition.name} ${rendition.width}x${rendition.height}`),
        ['480p 854x480', '360p 640x360', '240p 428x240'],
      );
      for (const rendition of ladder.renditions) {
        const probed = await probePlaylist(join(ladder.dir, rendition.playlist));
        assert.deepEqual([probed.codec, probed.width, probed.height], ['h264', rendition.width, rendition.height]);
      }
      assert.ok(Math.abs(ladder.durationS - 4) < 0.1, `duration ${ladder.durationS}`);
    });

    it('cuts every rung at the same keyframes, one per segment', async () => {
      const keyframes = await Promise.all(ladder.renditions.map(async (rendition) => (await probePlaylist(join(ladder.dir, rendition.playlist))).keyframes));
      assert.equal(keyframes[0]!.length, 4, `keyframes ${keyframes[0]!.join()}`);
      for (const other of keyframes.slice(1)) assert.deepEqual(other, keyframes[0]);
      const durations = await Promise.all(
        ladder.renditions.map(async (rendition) => parseMediaPlaylist(await readFile(join(ladder.dir, rendition.playlist), 'utf8')).segments.map((segment) => segment.durationS)),
      );
      assert.deepEqual(durations[0], [1, 1, 1, 1]);
      for (const other of durations.slice(1)) assert.deepEqual(other, durations[0]);
    });

    it('writes a master playlist with measured BANDWIDTH, AVERAGE-BANDWIDTH, RESOLUTION, CODECS and FRAME-RATE', async () => {
      const master = await readFile(join(ladder.dir, ladder.master), 'utf8');
      assert.match(master, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",.*URI="audio\/index\.m3u8"/);
      const entries = masterEntries(master);
      assert.deepEqual(entries.map((entry) => entry.uri), ['480p/index.m3u8', '360p/index.m3u8', '240p/index.m3u8']);
      let previous = Number.POSITIVE_INFINITY;
      for (const [i, entry] of entries.entries()) {
        const bandwidth = Number(entry.attributes.BANDWIDTH);
        const average = Number(entry.attributes['AVERAGE-BANDWIDTH']);
        assert.ok(average > 100_000 && average <= bandwidth && bandwidth < previous, `${bandwidth} / ${average}`);
        previous = bandwidth;
        assert.equal(entry.attributes.RESOLUTION, `${ladder.renditions[i]!.width}x${ladder.renditions[i]!.height}`);
        assert.equal(entry.attributes['FRAME-RATE'], '30.000');
        assert.match(entry.attributes.CODECS ?? '', /^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/);
        assert.equal(entry.attributes.AUDIO, 'audio');
      }
      const audio = parseMediaPlaylist(await readFile(join(ladder.dir, 'audio/index.m3u8'), 'utf8'));
      assert.ok(audio.ended && audio.segments.length >= 4);
    });

    it('writes a JPEG poster at the top rung size and a storyboard whose VTT points into its sheets', async () => {
      const poster = await readFile(join(ladder.dir, ladder.poster));
      assert.deepEqual([...poster.subarray(0, 3)], [0xff, 0xd8, 0xff]);
      const cues = parseStoryboardVtt(await readFile(join(ladder.dir, ladder.storyboard.vtt), 'utf8'));
      assert.equal(cues.length, 4);
      assert.deepEqual(
        cues.map((cue) => [cue.startS, cue.endS, cue.sheet, cue.x, cue.y, cue.width, cue.height]),
        [
          [0, 1, 'storyboard-001.jpg', 0, 0, 160, 90],
          [1, 2, 'storyboard-001.jpg', 160, 0, 160, 90],
          [2, 3, 'storyboard-001.jpg', 320, 0, 160, 90],
          [3, 4, 'storyboard-002.jpg', 0, 0, 160, 90],
        ],
      );
      assert.deepEqual(ladder.storyboard.sheets, ['storyboard-001.jpg', 'storyboard-002.jpg']);
      const { stdout } = await runFfprobe(['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0:s=x', join(ladder.dir, 'storyboard-001.jpg')], { timeoutMs: 10_000 });
      assert.equal(stdout.toString('utf8').trim(), '480x90');
    });

    it('reports progress as a percentage and a speed, and leaves no staging directory', async () => {
      assert.ok(progress.length > 0);
      assert.ok((progress.at(-1)?.percent ?? 0) > 90, JSON.stringify(progress.at(-1)));
      assert.ok(progress.every((event) => event.speed >= 0 && Number.isFinite(event.speed)));
      assert.deepEqual(await readdir(parent), ['vod']);
    });

    it('refuses to write over an existing ladder', async () => {
      await assert.rejects(transcodeLadder(fixtures.landscape480, ladder.dir, { preset: 'ultrafast' }), /already exists/);
    });
  });

  const quick = { rungs: [480, 360, 240], segmentS: 1, preset: 'ultrafast' } as const;

  it('gives a 320x240 source one rung at its size', async () => {
    const ladder = await transcodeLadder(fixtures.small240, join(workDir, 'small'), quick);
    assert.deepEqual(ladder.renditions.map((rendition) => `${rendition.name} ${rendition.width}x${rendition.height}`), ['240p 320x240']);
    assert.equal(masterEntries(await readFile(join(ladder.dir, ladder.master), 'utf8')).length, 1);
  });

  it('plans by the displayed size of a rotated source and writes upright renditions', async () => {
    const ladder = await transcodeLadder(fixtures.rotated, join(workDir, 'rotated'), quick);
    assert.deepEqual(ladder.plan.display, { width: 240, height: 320 });
    assert.deepEqual(ladder.renditions.map((rendition) => `${rendition.width}x${rendition.height}`), ['240x320']);
    const probed = await probePlaylist(join(ladder.dir, ladder.renditions[0]!.playlist));
    assert.deepEqual([probed.width, probed.height], [240, 320]);
    // Already turned upright: a rotation left on the output would make players turn it again.
    assert.ok(probed.rotation === undefined || Number(probed.rotation) === 0, `rotation ${String(probed.rotation)}`);
  });

  it('makes an odd-sized source (853x479) even', async () => {
    const ladder = await transcodeLadder(fixtures.oddSize, join(workDir, 'odd'), quick);
    assert.deepEqual(ladder.renditions.map((rendition) => `${rendition.width}x${rendition.height}`), ['852x478', '642x360', '428x240']);
  });

  it('ladders a video-only source without an audio group', async () => {
    const ladder = await transcodeLadder(fixtures.videoOnly, join(workDir, 'silent'), quick);
    assert.equal(ladder.audio, undefined);
    const master = await readFile(join(ladder.dir, ladder.master), 'utf8');
    assert.doesNotMatch(master, /EXT-X-MEDIA|mp4a/);
    await assert.rejects(stat(join(ladder.dir, 'audio')));
  });

  it('ladders a local HLS archive of TS segments when the hls demuxer is allowed, and only then', async () => {
    const ladder = await transcodeLadder(fixtures.archivePlaylist, join(workDir, 'archive'), { ...quick, inputFormats: HLS_ARCHIVE_INPUT_FORMATS });
    assert.deepEqual(ladder.renditions.map((rendition) => rendition.name), ['240p']);
    assert.ok(Math.abs(ladder.durationS - 3) < 0.1, `duration ${ladder.durationS}`);
    const parent = join(workDir, 'archive-refused');
    await mkdir(parent);
    await assert.rejects(transcodeLadder(fixtures.archivePlaylist, join(parent, 'vod'), quick), MediaProcessError);
    assert.deepEqual(await readdir(parent), []);
  });

  it('ladders an archive whose encoder restarted (timestamps from zero again after a discontinuity) into one continuous replay', async () => {
    const ladder = await transcodeLadder(fixtures.discontinuityPlaylist, join(workDir, 'restarted'), { ...quick, inputFormats: HLS_ARCHIVE_INPUT_FORMATS });
    assert.ok(Math.abs(ladder.durationS - 4) < 0.1, `duration ${ladder.durationS}`);
    const segments = parseMediaPlaylist(await readFile(join(ladder.dir, ladder.renditions[0]!.playlist), 'utf8')).segments;
    assert.deepEqual(segments.slice(0, 4).map((segment) => segment.durationS), [1, 1, 1, 1]);
  });

  it('removes the staging directories a killed worker left, and nothing else', async () => {
    const parent = join(workDir, 'killed');
    await mkdir(join(parent, '.vod.partial-1234', '720p'), { recursive: true });
    await mkdir(join(parent, '.vod.partial-5678'), { recursive: true });
    await mkdir(join(parent, 'vod-other'), { recursive: true });
    await mkdir(join(parent, '.other.partial-1'), { recursive: true });
    assert.deepEqual((await removeLadderStaging(join(parent, 'vod'))).sort(), ['.vod.partial-1234', '.vod.partial-5678']);
    assert.deepEqual((await readdir(parent)).sort(), ['.other.partial-1', 'vod-other']);
    assert.deepEqual(await removeLadderStaging(join(workDir, 'no-such-parent', 'vod')), []);
  });

  it('refuses an audio-only source with a reason and writes nothing', async () => {
    const parent = join(workDir, 'audio-only');
    await mkdir(parent);
    await assert.rejects(transcodeLadder(fixtures.audioOnly, join(parent, 'vod'), quick), (error: unknown) => {
      assert.ok(error instanceof LadderRefusedError);
      assert.match(error.reason, /no video stream/);
      return true;
    });
    assert.deepEqual(await readdir(parent), []);
  });

  it('kills an encode past its time limit and leaves nothing behind', async () => {
    const parent = join(workDir, 'timed-out');
    await mkdir(parent);
    await assert.rejects(
      transcodeLadder(fixtures.landscape480, join(parent, 'vod'), { ...quick, timeoutMs: 50 }),
      (error: unknown) => error instanceof MediaProcessError && error.kind === 'timeout',
    );
    assert.deepEqual(await readdir(parent), []);
  });

  it('stops on abort mid-run and leaves neither the output nor its staging directory', async () => {
    const parent = join(workDir, 'aborted');
    await mkdir(parent);
    const controller = new AbortController();
    let sawStaging = false;
    await assert.rejects(
      transcodeLadder(fixtures.landscape480, join(parent, 'vod'), {
        ...quick,
        preset: 'veryfast',
        signal: controller.signal,
        onProgress: () => {
          if (controller.signal.aborted) return;
          readdir(parent).then((names) => {
            sawStaging = names.some((name) => name.startsWith('.vod.partial-'));
            controller.abort(new Error('cancelled by the test'));
          }, () => undefined);
        },
      }),
      (error: unknown) => error instanceof MediaProcessError && error.kind === 'aborted',
    );
    assert.ok(sawStaging, 'the encode was writing into a staging directory when aborted');
    assert.deepEqual(await readdir(parent), []);
  });
});
