import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { checkMediaFile } from './check-media-file.js';
import { checkMediaLimits, DEFAULT_MEDIA_LIMITS } from './media-limits.js';
import type { MediaProbe, MediaStream } from './probe.js';

const video: MediaStream = { index: 0, kind: 'video', codec: 'h264', width: 1280, height: 720, frameRate: 30, declaredFrames: 300, readPackets: 300 };
const audio: MediaStream = { index: 1, kind: 'audio', codec: 'aac', sampleRate: 48000, channels: 2 };
const good: MediaProbe = { container: 'mov,mp4,m4a,3gp,3g2,mj2', durationS: 10, sizeBytes: 1_000_000, streams: [video, audio] };

function reasons(probe: MediaProbe): readonly string[] {
  const result = checkMediaLimits(probe);
  return result.ok ? [] : result.reasons;
}

describe('checkMediaLimits', () => {
  it('accepts an H.264/AAC MP4 and a VP9/Opus WebM within the limits', () => {
    assert.deepEqual(checkMediaLimits(good), { ok: true });
    const vp9: MediaStream = { index: 0, kind: 'video', codec: 'vp9', width: 640, height: 360, frameRate: 30, readPackets: 300 };
    const webm: MediaProbe = { container: 'matroska,webm', durationS: 10, streams: [vp9, { ...audio, codec: 'opus' }] };
    assert.deepEqual(checkMediaLimits(webm), { ok: true });
  });

  it('accepts portrait 2160x3840 but not 4096x2160', () => {
    assert.deepEqual(reasons({ ...good, streams: [{ ...video, width: 2160, height: 3840 }] }), []);
    assert.match(reasons({ ...good, streams: [{ ...video, width: 4096, height: 2160 }] }).join(), /larger than 3840x2160/);
  });

  it('rejects a container outside the allowlist', () => {
    assert.match(reasons({ ...good, container: 'avi' }).join(), /container avi is not allowed/);
  });

  it('rejects video and audio codecs outside the allowlist', () => {
    const found = reasons({ ...good, streams: [{ ...video, codec: 'mpeg4' }, { ...audio, codec: 'pcm_s16le' }] });
    assert.equal(found.length, 2);
    assert.match(found.join(), /codec mpeg4/);
    assert.match(found.join(), /codec pcm_s16le/);
  });

  it('rejects durations outside 0.5 s .. 10 min, and an unknown duration', () => {
    assert.match(reasons({ ...good, durationS: 0.2, streams: [{ ...video, declaredFrames: 6, readPackets: 6 }] }).join(), /shorter than 0.5 s/);
    assert.match(reasons({ ...good, durationS: 601, streams: [{ ...video, declaredFrames: 18030, readPackets: 18030 }] }).join(), /longer than 600 s/);
    const { durationS: _unused, ...noDuration } = good;
    assert.match(reasons(noDuration).join(), /duration is unknown/);
  });

  it('rejects tiny, unknown and absurd dimensions', () => {
    assert.match(reasons({ ...good, streams: [{ ...video, width: 8, height: 720 }] }).join(), /smaller than 16 px/);
    const { width: _w, height: _h, ...sizeless } = video;
    assert.match(reasons({ ...good, streams: [sizeless] }).join(), /dimensions are unknown/);
    assert.match(reasons({ ...good, streams: [{ ...video, width: 60000, height: 60000 }] }).join(), /absurd/);
  });

  it('rejects a frame rate above 120', () => {
    assert.match(reasons({ ...good, streams: [{ ...video, frameRate: 240, declaredFrames: 2400, readPackets: 2400 }] }).join(), /frame rate 240/);
  });

  it('requires exactly one video stream and at most two audio and two other streams', () => {
    assert.match(reasons({ ...good, streams: [audio] }).join(), /0 video streams, at least 1/);
    assert.match(reasons({ ...good, streams: [video, { ...video, index: 1 }] }).join(), /2 video streams, at most 1/);
    const audios = [1, 2, 3].map((index) => ({ ...audio, index }));
    assert.match(reasons({ ...good, streams: [video, ...audios] }).join(), /3 audio streams/);
    const others = [1, 2, 3].map((index): MediaStream => ({ index, kind: 'other', codec: 'bin_data' }));
    assert.match(reasons({ ...good, streams: [video, ...others] }).join(), /3 other streams/);
  });

  it('rejects a file with far fewer frames than its index declares', () => {
    assert.match(reasons({ ...good, streams: [{ ...video, readPackets: 120 }, audio] }).join(), /truncated: 120 of 300 declared frames/);
  });

  it('rejects a file with far less video than its declared duration (no frame index)', () => {
    const { declaredFrames: _unused, ...unindexed } = video;
    assert.match(reasons({ ...good, streams: [{ ...unindexed, readPackets: 60 }] }).join(), /about 2 s of video present, container declares 10 s/);
    assert.match(reasons({ ...good, streams: [{ ...unindexed, readPackets: 0 }] }).join(), /no video packets/);
  });

  it('reports every failed rule', () => {
    const found = reasons({ container: 'avi', durationS: 3600, streams: [{ ...video, codec: 'mpeg2video', width: 7680, height: 4320, frameRate: 240 }] });
    assert.ok(found.length >= 4, found.join('\n'));
  });

  it('applies a stricter policy passed in', () => {
    assert.deepEqual(checkMediaLimits(good, { ...DEFAULT_MEDIA_LIMITS, maxDurationS: 5 }), { ok: false, reasons: ['duration 10 s is longer than 5 s'] });
  });
});

describe('checkMediaFile on generated fixtures', () => {
  let fixtures: MediaFixtures;
  before(async () => {
    fixtures = await mediaFixtures();
  });

  for (const name of ['validMp4', 'validFaststartMp4', 'validWebm', 'reencodedMp4', 'polyglotMp4'] as const) {
    it(`accepts ${name}`, async () => {
      const result = await checkMediaFile(fixtures[name]);
      assert.equal(result.ok, true, result.ok ? '' : result.reasons.join('; '));
    });
  }

  it('rejects an MP4 cut short behind an intact moov (the header lies) as truncated', async () => {
    const result = await checkMediaFile(fixtures.truncatedMp4);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.reasons.join(), /truncated: \d+ of 150 declared frames present/);
  });

  it('rejects a WebM cut short as truncated', async () => {
    const result = await checkMediaFile(fixtures.truncatedWebm);
    assert.match(result.ok ? '' : result.reasons.join(), /truncated: about [\d.]+ s of video present, container declares 5/);
  });

  for (const name of ['truncatedNoMoovMp4', 'emptyMp4', 'htmlAsMp4', 'elfAsMp4', 'peAsMp4'] as const) {
    it(`rejects ${name} as unreadable, without leaking the server path`, async () => {
      const result = await checkMediaFile(fixtures[name]);
      assert.equal(result.ok, false);
      const text = result.ok ? '' : result.reasons.join();
      assert.match(text, /^unreadable by ffprobe/);
      assert.ok(!text.includes(fixtures.dir), text);
    });
  }

  it('rejects an H.264 stream whose SPS declares 16384x16 as absurd', async () => {
    const result = await checkMediaFile(fixtures.hugeDimensionsMp4);
    assert.match(result.ok ? '' : result.reasons.join(), /declared dimensions 16384x16 are absurd/);
  });
});
