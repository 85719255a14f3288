import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignAt, bitErrors } from './align-fingerprints.js';
import { SUB_FINGERPRINT_STEP_S, decodeFingerprint, encodeFingerprint, subFingerprintCentreS } from './audio-fingerprint.js';
import { matchAudioReferences } from './match-audio-references.js';
import { SubFingerprintIndex } from './sub-fingerprint-index.js';
import { seededRandom } from '../../../../test/support/seeded-random.js';

/**
 * A fingerprint shaped like Chromaprint's of music: each sub-fingerprint flips about 4-5 bits
 * of the one before (measured on our fixture tune: 4.7 on average), so neighbours are alike
 * and frames a few seconds apart are unrelated.
 */
function tuneLike(frames: number, seed: number): Uint32Array {
  const next = seededRandom(seed);
  const out = new Uint32Array(frames);
  let value = Math.floor(next() * 2 ** 32) >>> 0;
  for (let frame = 0; frame < frames; frame += 1) {
    const flips = 2 + Math.floor(next() * 6);
    for (let flip = 0; flip < flips; flip += 1) value = (value ^ (1 << Math.floor(next() * 32))) >>> 0;
    out[frame] = value;
  }
  return out;
}

/** Each bit flipped with probability `rate`: what noise and a re-encode do to a copy. */
function withBitNoise(frames: Uint32Array, rate: number, seed: number): Uint32Array {
  const next = seededRandom(seed);
  return frames.map((value) => {
    let noisy = value;
    for (let bit = 0; bit < 32; bit += 1) if (next() < rate) noisy ^= 1 << bit;
    return noisy >>> 0;
  });
}

const seconds = (s: number): number => Math.round(s / SUB_FINGERPRINT_STEP_S);

describe('audio fingerprint matching', () => {
  it('counts differing bits like a naive popcount, on every bit pattern class', () => {
    const next = seededRandom(1);
    const naive = (a: number, b: number): number => [...((a ^ b) >>> 0).toString(2)].filter((bit) => bit === '1').length;
    for (const [a, b] of [[0, 0], [0, 0xffffffff], [0x80000000, 0], [0x55555555, 0xaaaaaaaa]] as const) assert.equal(bitErrors(a, b), naive(a, b));
    for (let round = 0; round < 1000; round += 1) {
      const a = Math.floor(next() * 2 ** 32);
      const b = Math.floor(next() * 2 ** 32);
      assert.equal(bitErrors(a, b), naive(a, b));
    }
  });

  it('encodes a fingerprint as base64 and back, and refuses what is not whole sub-fingerprints in base64', () => {
    const frames = tuneLike(100, 2);
    assert.deepEqual(decodeFingerprint(encodeFingerprint(frames)), frames);
    for (const hostile of ['', 'AAA', 'AAAAAAA=', 'not base64!', 'AAAA AAA', `${'A'.repeat(8)}\n`]) {
      assert.throws(() => decodeFingerprint(hostile), `refuses ${JSON.stringify(hostile)}`);
    }
  });

  it('finds 10 s of a reference inside a clip, with noise on the copy, and names the span in both', () => {
    const reference = tuneLike(seconds(180), 3);
    const copiedFrom = seconds(73);
    const copy = withBitNoise(reference.subarray(copiedFrom, copiedFrom + seconds(10)), 0.1, 4);
    const clip = new Uint32Array([...tuneLike(seconds(20), 5), ...copy, ...tuneLike(seconds(30), 6)]);
    const index = SubFingerprintIndex.build([tuneLike(seconds(180), 7), reference, tuneLike(seconds(60), 8)]);

    const [match, ...others] = matchAudioReferences(clip, index, { minMatchS: 5 });
    assert.ok(match, 'a match');
    assert.deepEqual(others, [], 'only the reused reference matches');
    assert.equal(match.reference, 1);
    assert.ok(match.score > 0.85 && match.score < 0.95, `score ${match.score}: about 90 % of bits kept`);
    const near = (actual: number, expected: number, label: string): void => assert.ok(Math.abs(actual - expected) <= 1, `${label} ${actual.toFixed(2)} within 1 s of ${expected}`);
    // Seconds are where a sub-fingerprint's window is centred: frame n of made-up frames stands for n hops plus half a window.
    near(match.clipFromS, subFingerprintCentreS(seconds(20)), 'clip from');
    near(match.clipToS - match.clipFromS, 10, 'matched length');
    near(match.referenceFromS, subFingerprintCentreS(copiedFrom), 'reference from');
    near(match.referenceToS, subFingerprintCentreS(copiedFrom + seconds(10)), 'reference to');
  });

  it('finds a whole reference that starts after the clip does (a negative offset)', () => {
    const reference = tuneLike(seconds(30), 9);
    const clip = new Uint32Array([...tuneLike(seconds(15), 10), ...withBitNoise(reference, 0.05, 11), ...tuneLike(seconds(5), 12)]);
    const [match] = matchAudioReferences(clip, SubFingerprintIndex.build([reference]));
    assert.ok(match);
    assert.equal(match.referenceFromS, 0, 'from the start of the reference');
    assert.ok(Math.abs(match.clipFromS - subFingerprintCentreS(seconds(15))) <= 1, `clip from ${match.clipFromS}`);
    assert.ok(Math.abs(match.referenceToS - 30) <= 3, `to (about) the end of the reference: ${match.referenceToS}`);
  });

  it('matches nothing in unrelated audio, nor silence against silence', () => {
    const index = SubFingerprintIndex.build([tuneLike(seconds(180), 13), new Uint32Array(seconds(30)).fill(0x256df977)]);
    assert.deepEqual(matchAudioReferences(tuneLike(seconds(600), 14), index), []);
    const silence = new Uint32Array(seconds(20)).fill(0x256df977);
    assert.deepEqual(matchAudioReferences(silence, index), [], 'a run of one repeated value is not a match');
    assert.equal(alignAt(silence, index.references[1]!, 0), undefined);
  });

  it('ignores a match shorter than minMatchS', () => {
    const reference = tuneLike(seconds(60), 15);
    const clip = new Uint32Array([...tuneLike(seconds(10), 16), ...reference.subarray(seconds(20), seconds(24)), ...tuneLike(seconds(10), 17)]);
    const index = SubFingerprintIndex.build([reference]);
    assert.equal(matchAudioReferences(clip, index, { minMatchS: 2 }).length, 1);
    assert.deepEqual(matchAudioReferences(clip, index, { minMatchS: 6 }), []);
  });

  it('matches a 10 min clip against 1,000 references of 3 min far faster than comparing every offset', () => {
    const references = Array.from({ length: 1000 }, (_, reference) => tuneLike(seconds(180), 1000 + reference));
    const buildStarted = performance.now();
    const index = SubFingerprintIndex.build(references);
    const buildMs = performance.now() - buildStarted;
    const clip = new Uint32Array([...tuneLike(seconds(300), 18), ...withBitNoise(references[617]!.subarray(seconds(40), seconds(55)), 0.1, 19), ...tuneLike(seconds(285), 20)]);
    const matchStarted = performance.now();
    const matches = matchAudioReferences(clip, index, { minMatchS: 5 });
    const matchMs = performance.now() - matchStarted;
    assert.deepEqual(
      matches.map((match) => match.reference),
      [617],
    );

    // The scan the index avoids, timed on 10 of the references in the same run (so a loaded machine slows both alike).
    const scanStarted = performance.now();
    let scanned = 0;
    for (const reference of references.slice(0, 10)) {
      for (let offset = -clip.length + 1; offset < reference.length; offset += 1) {
        const end = Math.min(clip.length, reference.length - offset);
        for (let frame = Math.max(0, -offset); frame < end; frame += 1) scanned += bitErrors(clip[frame]!, reference[frame + offset]!);
      }
    }
    const scanAllMs = ((performance.now() - scanStarted) * references.length) / 10;
    process.stdout.write(
      `# index of 1,000 x 3 min references: ${buildMs.toFixed(0)} ms; 10 min clip matched in ${matchMs.toFixed(0)} ms; ` +
        `every offset of every reference: ~${(scanAllMs / 1000).toFixed(0)} s (10 of them scanned, times 100)\n`,
    );
    assert.ok(scanned > 0);
    assert.ok(matchMs * 20 < scanAllMs, `indexed ${matchMs.toFixed(0)} ms against a full scan of ~${scanAllMs.toFixed(0)} ms`);
  });
});
