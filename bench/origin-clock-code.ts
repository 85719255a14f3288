/**
 * A clock burnt into video frames and read back after the whole pipeline (issue 23's
 * glass-to-glass latency, `bench/origin.ts`): the wall-clock millisecond a frame was painted,
 * as a bar code of big black and white blocks in the top third of the picture. Blocks are a
 * fraction of the frame, so the code survives scaling to any rung of the ladder, and two
 * luma levels far apart survive VP8 and x264 at low bitrates; a checksum rejects a frame that
 * compression (or a half-painted frame) garbled instead of returning a wrong time. Pure.
 */

/** Blocks per row and rows of the code: 48 bits, 42 of time (ms since 1970 fits until 2109) and 6 of checksum. */
const COLUMNS = 12;
const ROWS = 4;
const TIME_BITS = 42;
const CHECK_BITS = COLUMNS * ROWS - TIME_BITS;
/** The code covers the top third of the frame; the rest is the caller's picture. */
const BAND_FRACTION = 1 / 3;
const BLACK = 16;
const WHITE = 235;

function checksum(ms: number): number {
  // The sum of the 7-bit groups of the time, modulo 2^6: any single flipped bit changes it.
  let sum = 0;
  for (let rest = ms; rest > 0; rest = Math.floor(rest / 128)) sum += rest % 128;
  return sum % (1 << CHECK_BITS);
}

function bits(ms: number): number[] {
  const out: number[] = [];
  for (let bit = TIME_BITS - 1; bit >= 0; bit -= 1) out.push(Math.floor(ms / 2 ** bit) % 2);
  const check = checksum(ms);
  for (let bit = CHECK_BITS - 1; bit >= 0; bit -= 1) out.push((check >> bit) & 1);
  return out;
}

function block(index: number, width: number, height: number): { x0: number; x1: number; y0: number; y1: number } {
  const band = Math.floor(height * BAND_FRACTION);
  const column = index % COLUMNS;
  const row = Math.floor(index / COLUMNS);
  return {
    x0: Math.floor((column * width) / COLUMNS),
    x1: Math.floor(((column + 1) * width) / COLUMNS),
    y0: Math.floor((row * band) / ROWS),
    y1: Math.floor(((row + 1) * band) / ROWS),
  };
}

/** Paints `ms` (a whole number of milliseconds, 0 <= ms < 2^42) into the luma plane `luma` (`width` x `height`, one byte a pixel). */
export function paintClock(luma: Uint8Array, width: number, height: number, ms: number): void {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** TIME_BITS) throw new RangeError(`the clock code holds whole ms below 2^${TIME_BITS}: ${ms}`);
  bits(ms).forEach((bit, index) => {
    const { x0, x1, y0, y1 } = block(index, width, height);
    for (let y = y0; y < y1; y += 1) luma.fill(bit ? WHITE : BLACK, y * width + x0, y * width + x1);
  });
}

/**
 * Reads the time painted by `paintClock` from a luma (gray) picture of any size with the same
 * aspect: each block's centre half is averaged and thresholded. Undefined when the checksum
 * does not match (a garbled or unpainted frame).
 */
export function readClock(luma: Uint8Array, width: number, height: number): number | undefined {
  let ms = 0;
  let check = 0;
  for (let index = 0; index < COLUMNS * ROWS; index += 1) {
    const { x0, x1, y0, y1 } = block(index, width, height);
    const marginX = Math.floor((x1 - x0) / 4);
    const marginY = Math.floor((y1 - y0) / 4);
    let sum = 0;
    let count = 0;
    for (let y = y0 + marginY; y < y1 - marginY; y += 1) {
      for (let x = x0 + marginX; x < x1 - marginX; x += 1) {
        sum += luma[y * width + x]!;
        count += 1;
      }
    }
    if (count === 0) return undefined;
    const bit = sum / count >= (BLACK + WHITE) / 2 ? 1 : 0;
    if (index < TIME_BITS) ms = ms * 2 + bit;
    else check = check * 2 + bit;
  }
  return checksum(ms) === check ? ms : undefined;
}
