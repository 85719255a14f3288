import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { createJobLimiter } from './job-limiter.js';
import { readMp4BoxLayout } from './mp4-boxes.js';
import { runFfmpeg, runFfprobe } from './ffmpeg-runner.js';
import { probeMedia } from './probe.js';
import { PUBLISHING_PROFILE, transcodeForPublishing, type PublishedMedia } from './transcode.js';

describe('transcodeForPublishing', () => {
  let fixtures: MediaFixtures;
  let workDir: string;
  let published: PublishedMedia;
  const progress: number[] = [];

  before(async () => {
    fixtures = await mediaFixtures();
    workDir = await mkdtemp(join(tmpdir(), 'live-upload-transcode-'));
    published = await transcodeForPublishing(fixtures.polyglotMp4, join(workDir, 'clip'), {
      inputDurationS: 5,
      limiter: createJobLimiter(1),
      onProgress: ({ fraction }) => progress.push(fraction ?? -1),
    });
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('writes an H.264 High / AAC MP4 at most 1280x720 with the measured duration', async () => {
    const probe = await probeMedia(published.mp4Path);
    assert.equal(probe.container, 'mov,mp4,m4a,3gp,3g2,mj2');
    assert.deepEqual(
      probe.streams.map((stream) => [stream.kind, stream.codec]),
      [['video', 'h264'], ['audio', 'aac']],
    );
    assert.deepEqual([published.width, published.height], [1280, 720]);
    assert.ok(Math.abs(published.durationS - 5) < 0.2, `duration ${published.durationS}`);
  });

  it('puts moov before mdat (+faststart) and drops whatever was appended to the upload', async () => {
    const layout = await readMp4BoxLayout(published.mp4Path);
    const types = layout.boxes.map((box) => box.type);
    assert.ok(types.includes('moov') && types.includes('mdat'), types.join());
    assert.ok(types.indexOf('moov') < types.indexOf('mdat'), types.join());
    assert.equal(layout.trailingBytes, 0);
    assert.ok(!(await readFile(published.mp4Path)).includes('<script>'));
  });

  it('writes a VOD HLS playlist whose segments exist', async () => {
    const playlist = await readFile(published.hlsPlaylistPath, 'utf8');
    assert.match(playlist, /^#EXTM3U/);
    assert.match(playlist, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(playlist, /#EXT-X-ENDLIST\s*$/);
    const segments = playlist.split('\n').filter((line) => line.length > 0 && !line.startsWith('#'));
    assert.ok(segments.length >= 2, playlist);
    for (const segment of segments) assert.match(segment, /^segment-\d{3}\.ts$/);
    assert.deepEqual(
      published.hlsSegmentPaths.map((path) => path.split('/').at(-1)),
      segments,
    );
    for (const path of published.hlsSegmentPaths) assert.ok((await stat(path)).size > 0);
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((match) => Number(match[1]));
    for (const duration of durations.slice(0, -1)) assert.ok(duration >= 2 && duration <= 4, `segment of ${duration} s`);
  });

  it('writes an HLS rendition that decodes end to end without an error, as long as the MP4', async () => {
    const decoded = await runFfmpeg(
      ['-v', 'error', '-protocol_whitelist', 'file', '-i', `file:${published.hlsPlaylistPath}`, '-map', '0', '-f', 'null', '-'],
      { timeoutMs: 60_000 },
    );
    assert.equal(decoded.stderrTail.trim(), '');
    const shown = await runFfprobe(['-v', 'error', '-protocol_whitelist', 'file', '-show_entries', 'format=duration', '-of', 'csv=p=0', `file:${published.hlsPlaylistPath}`], { timeoutMs: 30_000 });
    const durationS = Number(shown.stdout.toString().trim());
    assert.ok(Math.abs(durationS - published.durationS) < 0.2, `HLS ${durationS} s, MP4 ${published.durationS} s`);
  });

  it('writes a JPEG poster at the video\'s size', async () => {
    const bytes = await readFile(published.posterPath);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    const poster = await runFfprobe(['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', published.posterPath], { timeoutMs: 30_000 });
    assert.equal(poster.stdout.toString().trim(), `${published.width},${published.height}`);
  });

  it('starts every HLS segment on a keyframe, with the same H.264 / AAC streams as the MP4', async () => {
    for (const path of published.hlsSegmentPaths) {
      const streams = await runFfprobe(['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0', path], { timeoutMs: 30_000 });
      // MPEG-TS lists its streams twice: under the program and on their own.
      assert.deepEqual([...new Set(streams.stdout.toString().split('\n').filter((line) => line.length > 0))], ['h264,video', 'aac,audio']);
      const firstVideoPacket = await runFfprobe(
        ['-v', 'error', '-select_streams', 'v:0', '-read_intervals', '%+#1', '-show_entries', 'packet=flags', '-of', 'csv=p=0', path],
        { timeoutMs: 30_000 },
      );
      assert.match(firstVideoPacket.stdout.toString().trim(), /^K/, path);
    }
  });

  it('writes into a directory whose name holds the characters the tee muxer splits on', async () => {
    const odd = await transcodeForPublishing(fixtures.validWebm, join(workDir, "it's: a|b [c] d\\e"), { inputDurationS: 5 });
    assert.ok((await stat(odd.mp4Path)).size > 0);
    assert.ok(odd.hlsSegmentPaths.length >= 2, odd.hlsSegmentPaths.join());
    assert.match(await readFile(odd.hlsPlaylistPath, 'utf8'), /^segment-000\.ts$/m);
    assert.ok((await stat(odd.posterPath)).size > 0);
  });

  it('keeps mono audio mono and downmixes 5.1 to stereo, at most at the audio bitrate cap', async () => {
    const audioOf = async (path: string) => {
      const shown = await runFfprobe(['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=channels,sample_rate,bit_rate', '-of', 'json', path], { timeoutMs: 30_000 });
      const [stream] = (JSON.parse(shown.stdout.toString()) as { streams: Array<{ channels: number; sample_rate: string; bit_rate: string }> }).streams;
      return { channels: stream?.channels, sampleRate: Number(stream?.sample_rate), bitRate: Number(stream?.bit_rate) };
    };
    const mono = await audioOf(published.mp4Path);
    assert.equal((await probeMedia(fixtures.polyglotMp4)).streams.find((stream) => stream.kind === 'audio')?.channels, 1);
    assert.equal(mono.channels, 1);
    assert.equal(mono.sampleRate, PUBLISHING_PROFILE.audioSampleRate);
    assert.ok(mono.bitRate <= PUBLISHING_PROFILE.audioBitrateCap, `mono at ${mono.bitRate} b/s`);

    const surround = join(workDir, 'surround.mkv');
    await runFfmpeg(
      [
        '-y', '-v', 'error',
        '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30:duration=3',
        // Noise in every channel: the encoder has to spend its whole budget.
        '-f', 'lavfi', '-i', 'anoisesrc=sample_rate=44100:duration=3,pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'pcm_s16le', '-shortest', surround,
      ],
      { timeoutMs: 60_000 },
    );
    const downmixed = await transcodeForPublishing(surround, join(workDir, 'surround'), { inputDurationS: 3 });
    const stereo = await audioOf(downmixed.mp4Path);
    assert.equal(stereo.channels, 2);
    assert.equal(stereo.sampleRate, PUBLISHING_PROFILE.audioSampleRate);
    // The AAC encoder holds its target on average, a little above it on a short clip of noise.
    assert.ok(stereo.bitRate <= PUBLISHING_PROFILE.audioBitrateCap * 1.05, `stereo at ${stereo.bitRate} b/s`);
  });

  it('reports progress as a share of the input duration', () => {
    assert.ok(progress.length > 0);
    assert.ok((progress.at(-1) ?? 0) > 0.9, `last ${progress.at(-1)}`);
  });

  it('keeps a small input at its size and even dimensions (640x360 WebM in, MP4 out)', async () => {
    const small = await transcodeForPublishing(fixtures.validWebm, join(workDir, 'webm'), {});
    assert.deepEqual([small.width, small.height], [640, 360]);
    const probe = await probeMedia(small.mp4Path);
    assert.deepEqual(
      probe.streams.map((stream) => stream.codec),
      ['h264', 'aac'],
    );
  });
});
