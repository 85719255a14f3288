import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { MediaProcessError } from './media-process-error.js';
import { parseFfprobeOutput, probeMedia } from './probe.js';

describe('parseFfprobeOutput', () => {
  it('reads string numbers and treats N/A and 0/0 as unknown', () => {
    const probe = parseFfprobeOutput({
      streams: [
        { index: 0, codec_type: 'video', codec_name: 'h264', width: 640, height: '360', avg_frame_rate: '30000/1001', r_frame_rate: '30/1', nb_frames: '150', nb_read_packets: '150' },
        { index: 1, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2, avg_frame_rate: '0/0', nb_frames: 'N/A' },
        { index: 2, codec_type: 'video', codec_name: 'mjpeg', width: 300, height: 300, disposition: { attached_pic: 1 } },
        { index: 3, codec_type: 'data' },
      ],
      format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '5.000000', size: '1234', bit_rate: 'N/A' },
    });
    assert.deepEqual(probe, {
      container: 'mov,mp4,m4a,3gp,3g2,mj2',
      durationS: 5,
      sizeBytes: 1234,
      streams: [
        { index: 0, kind: 'video', codec: 'h264', width: 640, height: 360, frameRate: 30000 / 1001, declaredFrames: 150, readPackets: 150 },
        { index: 1, kind: 'audio', codec: 'aac', sampleRate: 48000, channels: 2 },
        { index: 2, kind: 'other', codec: 'mjpeg', width: 300, height: 300 },
        { index: 3, kind: 'other', codec: 'unknown' },
      ],
    });
  });

  it('rejects output without a format', () => {
    assert.throws(() => parseFfprobeOutput({ streams: [] }));
  });
});

describe('probeMedia', () => {
  let fixtures: MediaFixtures;
  before(async () => {
    fixtures = await mediaFixtures();
  });

  it('probes an H.264/AAC MP4', async () => {
    const probe = await probeMedia(fixtures.validMp4);
    assert.equal(probe.container, 'mov,mp4,m4a,3gp,3g2,mj2');
    assert.ok(Math.abs((probe.durationS ?? 0) - 5) < 0.1);
    const [video, audio] = probe.streams;
    assert.deepEqual(
      { kind: video?.kind, codec: video?.codec, width: video?.width, height: video?.height, frameRate: video?.frameRate },
      { kind: 'video', codec: 'h264', width: 1280, height: 720, frameRate: 30 },
    );
    assert.equal(video?.readPackets, video?.declaredFrames);
    assert.equal(audio?.codec, 'aac');
  });

  it('probes a VP9/Opus WebM', async () => {
    const probe = await probeMedia(fixtures.validWebm);
    assert.equal(probe.container, 'matroska,webm');
    assert.deepEqual(
      probe.streams.map((stream) => [stream.kind, stream.codec]),
      [['video', 'vp9'], ['audio', 'opus']],
    );
  });

  it('rejects a file ffprobe cannot read with a MediaProcessError', async () => {
    await assert.rejects(probeMedia(fixtures.truncatedNoMoovMp4), (error: unknown) => error instanceof MediaProcessError && error.kind === 'exit');
    await assert.rejects(probeMedia(fixtures.htmlAsMp4), MediaProcessError);
  });

  it('refuses a relative path', async () => {
    await assert.rejects(probeMedia('clip.mp4'), TypeError);
  });
});
