/**
 * How well a clip's fingerprint matches a reference's at one alignment, and over which span.
 *
 * At an offset, each clip sub-fingerprint is compared with the reference one it lands on: the
 * bit errors are the popcount of their XOR (0 identical .. 32). Unrelated audio differs in
 * about 14-16 bits per sub-fingerprint (chromaprint's bits are not quite balanced); the same
 * audio re-encoded, with a volume change or with noise under it, in 0-6. The errors are
 * averaged over a sliding window (a lone noisy sub-fingerprint neither makes nor breaks a
 * match), a frame is good when that average is at most `maxBitErrors`, and good frames with
 * short gaps between them form runs. The longest run is the matched span; its ends are trimmed
 * to frames that are good on their own.
 */
export interface AlignedSpan {
  /** Reference frame aligned to clip frame 0. */
  readonly offset: number;
  /** First and last clip frame of the span (inclusive); the reference's are these plus `offset`. */
  readonly clipFrom: number;
  readonly clipTo: number;
  /** Bit errors summed over the span. */
  readonly bitErrors: number;
  /** Share of matching bits over the span: 1 - bitErrors / (32 * frames). */
  readonly score: number;
}

export interface AlignOptions {
  /** Average bit errors (of 32) at or under which a frame is good. Default 10, chromaprint's own matcher's threshold. */
  readonly maxBitErrors?: number;
  /** Frames averaged around each one (odd). Default 9 (about 1.1 s). */
  readonly smoothingFrames?: number;
  /** Bad frames a run may span and go on. Default 8 (about 1 s). */
  readonly maxGapFrames?: number;
  /** Runs shorter than this are not spans. Default 8. */
  readonly minSpanFrames?: number;
  /**
   * A span needs this share of distinct reference sub-fingerprints: silence and held tones
   * repeat one value, and two silences match each other perfectly. Default 0.3.
   */
  readonly minDistinctShare?: number;
}

export const ALIGN_DEFAULTS = {
  maxBitErrors: 10,
  smoothingFrames: 9,
  maxGapFrames: 8,
  minSpanFrames: 8,
  minDistinctShare: 0.3,
} as const satisfies Required<AlignOptions>;

/** Differing bits of two 32-bit sub-fingerprints. */
export function bitErrors(a: number, b: number): number {
  let bits = (a ^ b) >>> 0;
  bits -= (bits >>> 1) & 0x55555555;
  bits = (bits & 0x33333333) + ((bits >>> 2) & 0x33333333);
  return (Math.imul((bits + (bits >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** The longest matched span of `clip` against `reference` at `offset`, or undefined when none qualifies. */
export function alignAt(clip: Uint32Array, reference: Uint32Array, offset: number, options: AlignOptions = {}): AlignedSpan | undefined {
  const { maxBitErrors, smoothingFrames, maxGapFrames, minSpanFrames, minDistinctShare } = { ...ALIGN_DEFAULTS, ...options };
  const first = Math.max(0, -offset);
  const end = Math.min(clip.length, reference.length - offset);
  const length = end - first;
  if (length < minSpanFrames) return undefined;

  const errors = new Uint8Array(length);
  const sums = new Float64Array(length + 1);
  for (let at = 0; at < length; at += 1) {
    errors[at] = bitErrors(clip[first + at]!, reference[first + at + offset]!);
    sums[at + 1] = sums[at]! + errors[at]!;
  }
  const half = Math.floor(smoothingFrames / 2);
  const good = (at: number): boolean => {
    const from = Math.max(0, at - half);
    const to = Math.min(length, at + half + 1);
    return (sums[to]! - sums[from]!) / (to - from) <= maxBitErrors;
  };

  let best: { from: number; to: number } | undefined;
  const consider = (from: number, to: number): void => {
    // Trim to frames good on their own: the window lets a run reach a little past the copy.
    while (from < to && errors[from]! > maxBitErrors) from += 1;
    while (to > from && errors[to]! > maxBitErrors) to -= 1;
    if (to - from + 1 < minSpanFrames) return;
    if (distinctShare(reference, from + first + offset, to + first + offset) < minDistinctShare) return;
    if (!best || to - from > best.to - best.from || (to - from === best.to - best.from && spanErrors(sums, from, to) < spanErrors(sums, best.from, best.to))) {
      best = { from, to };
    }
  };
  let runFrom = -1;
  let lastGood = -1;
  for (let at = 0; at < length; at += 1) {
    if (!good(at)) continue;
    if (runFrom >= 0 && at - lastGood - 1 > maxGapFrames) {
      consider(runFrom, lastGood);
      runFrom = -1;
    }
    if (runFrom < 0) runFrom = at;
    lastGood = at;
  }
  if (runFrom >= 0) consider(runFrom, lastGood);
  if (!best) return undefined;

  const found: { from: number; to: number } = best;
  const bitErrorsInSpan = spanErrors(sums, found.from, found.to);
  return {
    offset,
    clipFrom: first + found.from,
    clipTo: first + found.to,
    bitErrors: bitErrorsInSpan,
    score: 1 - bitErrorsInSpan / (32 * (found.to - found.from + 1)),
  };
}

function spanErrors(sums: Float64Array, from: number, to: number): number {
  return sums[to + 1]! - sums[from]!;
}

function distinctShare(frames: Uint32Array, from: number, to: number): number {
  return new Set(frames.subarray(from, to + 1)).size / (to - from + 1);
}
