import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFfmpeg } from '../media/index.js';
import { h264SpsSize, h264StartsKeyframe, spsSize, vp8KeyframeSize } from './video-frame-size.js';

/** One encoded frame of `size` from ffmpeg's test source: an H.264 Annex B stream or a VP8 IVF file. */
async function encodeFrame(codec: 'h264' | 'vp8', size: string, profile = 'high'): Promise<Buffer> {
  const codecArgs = codec === 'h264' ? ['-c:v', 'libx264', '-profile:v', profile, '-pix_fmt', 'yuv420p', '-f', 'h264'] : ['-c:v', 'libvpx', '-f', 'ivf'];
  const { stdout } = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=30`, '-frames:v', '1', ...codecArgs, 'pipe:1'], { timeoutMs: 30_000 });
  return stdout;
}

/** The NAL units of an Annex B stream (start codes removed). */
function nalUnits(stream: Buffer): Buffer[] {
  const units: Buffer[] = [];
  let start = -1;
  for (let index = 0; index + 3 <= stream.length; index += 1) {
    if (stream[index] === 0 && stream[index + 1] === 0 && stream[index + 2] === 1) {
      if (start >= 0) units.push(stream.subarray(start, index - (stream[index - 1] === 0 ? 1 : 0)));
      start = index + 3;
      index += 2;
    }
  }
  if (start >= 0) units.push(stream.subarray(start));
  return units;
}

describe('picture size from RTP payloads', () => {
  for (const [size, profile, expected] of [
    ['640x360', 'high', { width: 640, height: 360 }],
    ['1280x720', 'main', { width: 1280, height: 720 }],
    ['1080x1920', 'high', { width: 1080, height: 1920 }],
    ['322x182', 'baseline', { width: 322, height: 182 }],
  ] as const) {
    it(`reads ${size} (${profile}) from the SPS, alone or in a STAP-A, and sees the IDR`, async () => {
      const units = nalUnits(await encodeFrame('h264', size, profile));
      const sps = units.find((unit) => (unit[0]! & 0x1f) === 7);
      const pps = units.find((unit) => (unit[0]! & 0x1f) === 8);
      const idr = units.find((unit) => (unit[0]! & 0x1f) === 5);
      assert.ok(sps && pps && idr);
      assert.deepEqual(spsSize(sps), expected);
      assert.deepEqual(h264SpsSize(sps), expected);
      const stapA = Buffer.concat([Buffer.from([0x78]), Buffer.from([sps.length >> 8, sps.length & 0xff]), sps, Buffer.from([pps.length >> 8, pps.length & 0xff]), pps]);
      assert.deepEqual(h264SpsSize(stapA), expected);
      assert.equal(h264SpsSize(idr), undefined);
      assert.equal(h264StartsKeyframe(idr), true);
      const fuStart = Buffer.from([(idr[0]! & 0xe0) | 28, 0x80 | 5, ...idr.subarray(1, 100)]);
      const fuMiddle = Buffer.from([(idr[0]! & 0xe0) | 28, 5, ...idr.subarray(100, 200)]);
      assert.equal(h264StartsKeyframe(fuStart), true);
      assert.equal(h264StartsKeyframe(fuMiddle), false);
    });
  }

  it('reads a VP8 keyframe size with and without the extended payload descriptor, and nothing from a continuation', async () => {
    const ivf = await encodeFrame('vp8', '854x480');
    // IVF: 32-byte file header, 12-byte frame header, then the frame.
    const frame = ivf.subarray(32 + 12);
    assert.deepEqual(vp8KeyframeSize(Buffer.concat([Buffer.from([0x10]), frame])), { width: 854, height: 480 });
    // X, I with a 15-bit picture id, L, T/K.
    assert.deepEqual(vp8KeyframeSize(Buffer.concat([Buffer.from([0x90, 0xe0, 0x81, 0x23, 0x05, 0x40]), frame])), { width: 854, height: 480 });
    assert.equal(vp8KeyframeSize(Buffer.concat([Buffer.from([0x00]), frame])), undefined, 'not the start of a partition');
    const interFrame = Buffer.from(frame);
    interFrame[0] = interFrame[0]! | 0x01;
    assert.equal(vp8KeyframeSize(Buffer.concat([Buffer.from([0x10]), interFrame])), undefined, 'an inter frame');
  });

  it('never throws on garbage', () => {
    for (let round = 0; round < 2000; round += 1) {
      const bytes = Buffer.from(Array.from({ length: round % 64 }, () => Math.floor(Math.random() * 256)));
      vp8KeyframeSize(bytes);
      h264SpsSize(bytes);
      h264StartsKeyframe(bytes);
      spsSize(Buffer.concat([Buffer.from([0x67]), bytes]));
    }
    assert.equal(h264SpsSize(Buffer.from([0x78, 0xff, 0xff, 0x67])), undefined, 'a STAP-A claiming more than it holds');
  });
});
