import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vodFixtures } from '../../../test/fixtures/vod-fixtures.js';
import { ladderInputArgs } from './ladder-input.js';
import { parseLadderSource, probeLadderSource } from './ladder-source.js';

describe('parseLadderSource', () => {
  it('reads rotation from the display matrix first, else the legacy rotate tag', () => {
    const fromMatrix = parseLadderSource({
      streams: [
        { codec_type: 'video', width: 1920, height: 1080, avg_frame_rate: '30000/1001', tags: { rotate: '180' }, side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] },
        { codec_type: 'audio' },
      ],
      format: { duration: '12.5' },
    });
    assert.deepEqual(fromMatrix, { video: { width: 1920, height: 1080, rotationDeg: -90, sampleAspectRatio: 1, frameRate: 30000 / 1001 }, hasAudio: true, durationS: 12.5 });
    const fromTag = parseLadderSource({ streams: [{ codec_type: 'video', width: 640, height: 480, tags: { rotate: '270' }, sample_aspect_ratio: '4:3' }], format: {} });
    assert.deepEqual(fromTag, { video: { width: 640, height: 480, rotationDeg: 270, sampleAspectRatio: 4 / 3 }, hasAudio: false });
  });

  it('ignores cover art and sizeless video, and treats N/A and 0/0 as unknown', () => {
    const coverArt = parseLadderSource({
      streams: [{ codec_type: 'audio' }, { codec_type: 'video', width: 300, height: 300, disposition: { attached_pic: 1 } }],
      format: { duration: 'N/A' },
    });
    assert.deepEqual(coverArt, { hasAudio: true });
    const unknownRate = parseLadderSource({ streams: [{ codec_type: 'video', width: 64, height: 64, avg_frame_rate: '0/0', r_frame_rate: '0/0', sample_aspect_ratio: '0:1' }], format: { duration: '0' } });
    assert.deepEqual(unknownRate, { video: { width: 64, height: 64, rotationDeg: 0, sampleAspectRatio: 1 }, hasAudio: false });
    assert.throws(() => parseLadderSource({ streams: 'nope', format: {} }));
  });
});

describe('probeLadderSource', () => {
  it('measures a rotated file and an audio-only file', async () => {
    const fixtures = await vodFixtures();
    const rotated = await probeLadderSource(fixtures.rotated);
    assert.equal(rotated.video?.width, 320);
    assert.equal(Math.abs(rotated.video?.rotationDeg ?? 0), 90);
    const audioOnly = await probeLadderSource(fixtures.audioOnly);
    assert.equal(audioOnly.video, undefined);
    assert.equal(audioOnly.hasAudio, true);
  });
});

describe('ladderInputArgs', () => {
  it('allows the upload containers and MPEG-TS, never playlists, unless told', () => {
    const args = ladderInputArgs('/archive/broadcast.ts');
    assert.deepEqual(args.slice(0, 2), ['-protocol_whitelist', 'file']);
    const formats = args[args.indexOf('-format_whitelist') + 1]!.split(',');
    assert.ok(formats.includes('mpegts') && formats.includes('mov') && !formats.includes('hls') && !formats.includes('concat'));
    assert.equal(args.at(-1), 'file:/archive/broadcast.ts');
    assert.equal(ladderInputArgs('/archive/index.m3u8', ['hls'])[3], 'hls');
  });
});
