import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mediaFixtures, type MediaFixtures } from '../../../test/fixtures/media-fixtures.js';
import { runFfmpeg } from './ffmpeg-runner.js';
import { dHash, hammingDistance, matchesBlocklist, PERCEPTUAL_HASH_DEFAULTS, sampleFrameHashes, sampleUploadFrameHashes } from './perceptual-hash.js';

/** A 9x8 grey frame from a function of (row, col). */
function frame(pixel: (row: number, col: number) => number): Uint8Array {
  return Uint8Array.from({ length: 72 }, (_, i) => pixel(Math.floor(i / 9), i % 9));
}

describe('dHash and hammingDistance', () => {
  it('sets a bit where a pixel is brighter than its right neighbour', () => {
    assert.equal(dHash(frame((_row, col) => 200 - col * 10)), 'ffffffffffffffff');
    assert.equal(dHash(frame((_row, col) => col * 10)), '0000000000000000');
    assert.equal(dHash(frame((row, col) => (row === 0 ? 200 - col * 10 : col))), 'ff00000000000000');
  });

  it('counts differing bits', () => {
    assert.equal(hammingDistance('ffffffffffffffff', '0000000000000000'), 64);
    assert.equal(hammingDistance('ff00000000000000', 'fe00000000000001'), 2);
    assert.equal(hammingDistance('0123456789abcdef', '0123456789abcdef'), 0);
  });

  it('refuses something that is not a 64-bit hash', () => {
    assert.throws(() => hammingDistance('xyz', '0000000000000000'), TypeError);
    assert.throws(() => dHash(new Uint8Array(10)), RangeError);
  });
});

describe('matchesBlocklist', () => {
  const blocked = ['ff00ff00ff00ff00', '0f0f0f0f0f0f0f0f'];

  it('matches when at least 2 sampled frames are within 10 bits of a blocklisted hash', () => {
    const match = matchesBlocklist(['ff00ff00ff00ff03', '0f0f0f0f0f0f0f00', '123456789abcdef0'], blocked);
    assert.equal(match.matched, true);
    assert.equal(match.matchingFrames, 2);
    assert.deepEqual(match.hits[0], { frame: 'ff00ff00ff00ff03', blocked: 'ff00ff00ff00ff00', distance: 2 });
  });

  it('does not match on a single frame of eight', () => {
    const frames = ['ff00ff00ff00ff00', ...Array.from({ length: 7 }, () => '123456789abcdef0')];
    assert.equal(matchesBlocklist(frames, blocked).matched, false);
  });

  it('does not match frames more than maxDistance away', () => {
    const far = 'ff00ff00ff00f0ff'; // 12 bits from the first entry
    assert.equal(hammingDistance(far, blocked[0] ?? ''), 12);
    assert.equal(matchesBlocklist([far, far], blocked).matched, false);
    assert.equal(matchesBlocklist([far, far], blocked, { maxDistance: 12 }).matched, true);
  });

  it('matches a video with one informative frame when that frame matches', () => {
    assert.equal(matchesBlocklist(['ff00ff00ff00ff00'], blocked).matched, true);
  });

  it('never matches no frames or an empty blocklist', () => {
    assert.equal(matchesBlocklist([], blocked).matched, false);
    assert.equal(matchesBlocklist(['ff00ff00ff00ff00', 'ff00ff00ff00ff00'], []).matched, false);
  });
});

describe('sampleFrameHashes with real ffmpeg', () => {
  let fixtures: MediaFixtures;
  let original: string[];
  before(async () => {
    fixtures = await mediaFixtures();
    original = await sampleFrameHashes(fixtures.validMp4, { durationS: 5, frameCount: 8 });
  });

  it('samples 8 frames in one ffmpeg run', () => {
    assert.equal(original.length, 8);
    for (const hash of original) assert.match(hash, /^[0-9a-f]{16}$/);
  });

  it('hashes referenceFrameCount frames for a blocklist reference by default', async () => {
    const reference = await sampleFrameHashes(fixtures.validMp4, { durationS: 5 });
    assert.equal(reference.length, PERCEPTUAL_HASH_DEFAULTS.referenceFrameCount);
  });

  it('still matches the original after a re-encode at a lower bitrate and 1280x720 -> 640x360', async () => {
    const reencoded = await sampleFrameHashes(fixtures.reencodedMp4, { durationS: 5, frameCount: 8 });
    const match = matchesBlocklist(reencoded, original);
    assert.equal(match.matched, true);
    assert.equal(match.matchingFrames, reencoded.length);
    for (const hit of match.hits) assert.ok(hit.distance <= 4, `distance ${hit.distance}`);
  });

  it('matches the same clip in another container and codec (VP9 WebM)', async () => {
    const webm = await sampleFrameHashes(fixtures.validWebm, { durationS: 5, frameCount: 8 });
    assert.equal(matchesBlocklist(webm, original).matched, true);
  });

  it('does not match a different clip', async () => {
    const different = await sampleFrameHashes(fixtures.differentMp4, { durationS: 5, frameCount: 8 });
    assert.ok(different.length >= 2);
    const match = matchesBlocklist(different, original);
    assert.equal(match.matched, false, JSON.stringify(match.hits));
  });
});

describe('sampleUploadFrameHashes (the check\'s sampler) against blocklist references', () => {
  let fixtures: MediaFixtures;
  let reference: string[];
  let workDir: string;
  /** `validMp4` re-encoded at 640x360 with a keyframe every 0.5 s, as a phone or an editor would cut it. */
  let denseKeyframes: string;
  before(async () => {
    fixtures = await mediaFixtures();
    reference = await sampleFrameHashes(fixtures.validMp4, { durationS: 5 });
    workDir = await mkdtemp(join(tmpdir(), 'live-upload-phash-'));
    denseKeyframes = join(workDir, 'keyframes-every-half-second.mp4');
    await runFfmpeg(
      ['-y', '-v', 'error', '-i', fixtures.validMp4, '-vf', 'scale=640:360', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-b:v', '400k', '-threads', '1', '-an', denseKeyframes],
      { timeoutMs: 60_000 },
    );
  });
  after(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('decodes only keyframes when there are enough of them, and still matches the reference', async () => {
    const { hashes, sampling } = await sampleUploadFrameHashes(denseKeyframes, { durationS: 5 });
    assert.equal(sampling, 'keyframes');
    assert.equal(hashes.length, 8);
    const match = matchesBlocklist(hashes, reference);
    assert.equal(match.matched, true);
    assert.equal(match.matchingFrames, hashes.length, JSON.stringify(match.hits));
  });

  it('falls back to decoding every frame for a clip that is one GOP, and still matches the reference', async () => {
    const { hashes, sampling } = await sampleUploadFrameHashes(fixtures.reencodedMp4, { durationS: 5 });
    assert.equal(sampling, 'all-frames');
    assert.equal(hashes.length, 8);
    const match = matchesBlocklist(hashes, reference);
    assert.equal(match.matched, true);
    assert.equal(match.matchingFrames, hashes.length, JSON.stringify(match.hits));
  });

  it('does not match a different clip', async () => {
    const { hashes } = await sampleUploadFrameHashes(fixtures.differentMp4, { durationS: 5 });
    assert.ok(hashes.length >= 2);
    assert.equal(matchesBlocklist(hashes, reference).matched, false);
  });
});
