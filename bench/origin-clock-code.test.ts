import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paintClock, readClock } from './origin-clock-code.js';

/** Nearest-neighbour downscale of a luma plane, as a ladder rung would shrink it (without the blur). */
function shrink(luma: Uint8Array, width: number, height: number, toWidth: number, toHeight: number): Uint8Array {
  const out = new Uint8Array(toWidth * toHeight);
  for (let y = 0; y < toHeight; y += 1) {
    for (let x = 0; x < toWidth; x += 1) out[y * toWidth + x] = luma[Math.floor((y * height) / toHeight) * width + Math.floor((x * width) / toWidth)]!;
  }
  return out;
}

describe('the clock burnt into frames (bench/origin)', () => {
  const ms = 1_796_601_234_567;

  it('reads back the painted ms at the source size and at a rung a third as wide', () => {
    const luma = new Uint8Array(1280 * 720).fill(90);
    paintClock(luma, 1280, 720, ms);
    assert.equal(readClock(luma, 1280, 720), ms);
    assert.equal(readClock(shrink(luma, 1280, 720, 426, 240), 426, 240), ms);
  });

  it('survives noise of a lossy codec (+-60 on every pixel)', () => {
    const luma = new Uint8Array(640 * 360);
    paintClock(luma, 640, 360, ms + 1);
    let seed = 7;
    for (let index = 0; index < luma.length; index += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      luma[index] = Math.min(255, Math.max(0, luma[index]! + ((seed % 121) - 60)));
    }
    assert.equal(readClock(luma, 640, 360), ms + 1);
  });

  it('rejects a frame whose code was garbled (one block flipped) or never painted', () => {
    const luma = new Uint8Array(640 * 360);
    paintClock(luma, 640, 360, ms);
    // Flip the last time bit's block (index 41: row 3, column 5); the band is the top 120 rows, 30 a row.
    for (let y = 90; y < 120; y += 1) for (let x = Math.floor((5 * 640) / 12); x < Math.floor((6 * 640) / 12); x += 1) luma[y * 640 + x] = 255 - luma[y * 640 + x]!;
    assert.equal(readClock(luma, 640, 360), undefined);
    assert.equal(readClock(new Uint8Array(640 * 360).fill(128), 640, 360), undefined);
  });

  it('refuses a time it cannot hold', () => {
    assert.throws(() => paintClock(new Uint8Array(64 * 36), 64, 36, 2 ** 42), RangeError);
    assert.throws(() => paintClock(new Uint8Array(64 * 36), 64, 36, 1.5), RangeError);
  });
});
