import { z } from 'zod';
import { runFfmpeg, type MediaBinaries } from './ffmpeg-runner.js';
import { mediaInputArgs } from './media-input.js';

/**
 * Perceptual hashes of video frames for the blocklist: a known bad clip that was re-encoded,
 * resized or recompressed still hashes within a few bits of the original.
 *
 * Hash: 64-bit dHash. Each sampled frame is scaled (area average) to 9x8 grey; bit (row, col)
 * is 1 when pixel (row, col) is brighter than pixel (row, col + 1). Written as 16 lowercase hex
 * digits, row 0 in the high bits. The hash of a frame is the same whichever sampler picked the
 * frame, so blocklist entries stored before the keyframe sampler existed keep their meaning.
 *
 * Two samplers, because the two sides of a match have different budgets:
 * - a blocklist reference (`sampleFrameHashes`) is made once, by an admin: every frame is
 *   decoded and `referenceFrameCount` frames spread evenly over the clip are hashed, so that
 *   whatever frame an upload is sampled at, a reference frame lies close to it in time;
 * - every upload is checked (`sampleUploadFrameHashes`): only its keyframes are decoded
 *   (`-skip_frame nokey`), so a 30 s 720p clip costs a handful of frame decodes instead of 900.
 *   When the clip has too few keyframes to spread samples over (one GOP for the whole clip),
 *   it falls back to decoding every frame.
 */

/** A 64-bit perceptual hash as 16 lowercase hex digits. */
export const perceptualHashSchema = z.string().regex(/^[0-9a-f]{16}$/, 'a 64-bit hash as 16 lowercase hex digits');
export type PerceptualHash = z.infer<typeof perceptualHashSchema>;

export const PERCEPTUAL_HASH_DEFAULTS = {
  /** Frames sampled per uploaded video: keyframes spread over N equal slices of its duration. */
  frameCount: 8,
  /**
   * Frames hashed for a blocklist reference, at the middle of N equal slices of its duration:
   * dense, so an upload's keyframe (anywhere in a slice) has a reference frame within half a
   * slice of it (under 0.25 s on a 30 s clip). At most 256 (a blocklist entry's limit).
   */
  referenceFrameCount: 64,
  /**
   * An upload whose keyframes give fewer informative hashes than this is sampled again with
   * every frame decoded (`sampleFrameHashes` at `frameCount`): too few keyframes to spread the
   * samples over (a single GOP, a screen recording with keyframes minutes apart).
   */
  minKeyframeHashes: 4,
  /**
   * A frame matches a blocklisted hash within this many differing bits (of 64). Re-encodes and
   * resizes of our test clips land at 0-4; unrelated frames at ~32 (random) and rarely under 16.
   */
  maxDistance: 10,
  /**
   * A video matches when at least this many of its sampled frames match (or all of them, when
   * fewer were sampled). 2, not 1: one frame alone (a title card, a fade) is too easy to share
   * with innocent videos; 2 of 8 still catches a clip trimmed or padded at either end.
   */
  minMatchingFrames: 2,
  /**
   * Frames whose grey levels span less than this (0-255) after scaling carry no picture (black,
   * fades, flat colour) and hash to all zeros; they are left out.
   */
  minLumaRange: 12,
} as const;

const HASH_WIDTH = 9;
const HASH_HEIGHT = 8;
const FRAME_BYTES = HASH_WIDTH * HASH_HEIGHT;

/** dHash of one 9x8 8-bit grey frame. */
export function dHash(pixels: Uint8Array): PerceptualHash {
  if (pixels.length !== FRAME_BYTES) throw new RangeError(`expected ${FRAME_BYTES} grey pixels, got ${pixels.length}`);
  let hash = 0n;
  for (let row = 0; row < HASH_HEIGHT; row += 1) {
    for (let col = 0; col < HASH_WIDTH - 1; col += 1) {
      const left = pixels[row * HASH_WIDTH + col] ?? 0;
      const right = pixels[row * HASH_WIDTH + col + 1] ?? 0;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash.toString(16).padStart(16, '0');
}

/** Number of differing bits between two hashes (0..64). */
export function hammingDistance(a: PerceptualHash, b: PerceptualHash): number {
  return popcount(hashBits(a) ^ hashBits(b));
}

const HASH_PATTERN = /^[0-9a-f]{16}$/;

function hashBits(hash: PerceptualHash): bigint {
  if (!HASH_PATTERN.test(hash)) throw new TypeError(`not a 64-bit hash: ${JSON.stringify(hash)}`);
  return BigInt(`0x${hash}`);
}

function popcount(bits: bigint): number {
  let rest = BigInt.asUintN(64, bits);
  let count = 0;
  while (rest !== 0n) {
    rest &= rest - 1n;
    count += 1;
  }
  return count;
}

export interface FrameHashOptions {
  /** The file's duration in seconds (from the probe); frames are spread over it. */
  readonly durationS: number;
  readonly frameCount?: number;
  /** Default 30 s: the video may be decoded once, start to end. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly binaries?: Partial<MediaBinaries>;
}

/**
 * Blocklist reference hashes: samples `frameCount` (default `referenceFrameCount`) frames evenly
 * over the video (the first frame at or after the middle of each of N equal slices of the
 * duration) with ONE ffmpeg call that decodes every frame, and hashes them. Flat frames (see
 * `minLumaRange`) are left out, so the result may be shorter than `frameCount`.
 */
export async function sampleFrameHashes(path: string, options: FrameHashOptions): Promise<PerceptualHash[]> {
  const frameCount = options.frameCount ?? PERCEPTUAL_HASH_DEFAULTS.referenceFrameCount;
  if (!(options.durationS > 0)) throw new RangeError(`durationS must be positive, got ${options.durationS}`);
  const step = options.durationS / frameCount;
  // `selected_n` counts the frames selected so far, so this picks the first frame past each slice middle.
  return hashSelectedFrames(path, [], `select='gte(t\\,(selected_n+0.5)*${step.toFixed(6)})'`, frameCount, options);
}

/** How `sampleUploadFrameHashes` sampled: keyframes only, or every frame decoded (too few keyframes). */
export type FrameSampling = 'keyframes' | 'all-frames';

/**
 * An upload's hashes for the blocklist check: up to `frameCount` (default 8) keyframes, the
 * first keyframe at or after the start of each of N equal slices of the duration, with only
 * keyframes decoded. Falls back to `sampleFrameHashes` at `frameCount` (every frame decoded)
 * when the keyframes give fewer than `minKeyframeHashes` informative hashes.
 */
export async function sampleUploadFrameHashes(path: string, options: FrameHashOptions): Promise<{ hashes: PerceptualHash[]; sampling: FrameSampling }> {
  const frameCount = options.frameCount ?? PERCEPTUAL_HASH_DEFAULTS.frameCount;
  if (!(options.durationS > 0)) throw new RangeError(`durationS must be positive, got ${options.durationS}`);
  const step = options.durationS / frameCount;
  // Only keyframes reach the filter; this keeps the first one at or after each slice start.
  const select = `select='gte(t\\,selected_n*${step.toFixed(6)})'`;
  const keyframes = await hashSelectedFrames(path, ['-skip_frame', 'nokey'], select, frameCount, options);
  const enough = Math.min(PERCEPTUAL_HASH_DEFAULTS.minKeyframeHashes, frameCount);
  if (keyframes.length >= enough) return { hashes: keyframes, sampling: 'keyframes' };
  return { hashes: await sampleFrameHashes(path, { ...options, frameCount }), sampling: 'all-frames' };
}

/** Runs ffmpeg with `select` over the video, scales the selected frames to 9x8 grey and dHashes the informative ones. */
async function hashSelectedFrames(
  path: string,
  decoderArgs: readonly string[],
  select: string,
  frameCount: number,
  options: FrameHashOptions,
): Promise<PerceptualHash[]> {
  const { stdout } = await runFfmpeg(
    [
      '-v', 'error',
      ...decoderArgs,
      ...mediaInputArgs(path),
      '-map', '0:v:0',
      '-an', '-sn', '-dn',
      '-vf', `${select},scale=${HASH_WIDTH}:${HASH_HEIGHT}:flags=area,format=gray`,
      '-fps_mode', 'passthrough',
      '-frames:v', String(frameCount),
      '-threads', '2',
      '-f', 'rawvideo',
      'pipe:1',
    ],
    {
      timeoutMs: options.timeoutMs ?? 30_000,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.binaries ? { binaries: options.binaries } : {}),
      maxStdoutBytes: frameCount * FRAME_BYTES,
    },
  );
  const hashes: PerceptualHash[] = [];
  for (let offset = 0; offset + FRAME_BYTES <= stdout.length; offset += FRAME_BYTES) {
    const frame = new Uint8Array(stdout.subarray(offset, offset + FRAME_BYTES));
    if (lumaRange(frame) >= PERCEPTUAL_HASH_DEFAULTS.minLumaRange) hashes.push(dHash(frame));
  }
  return hashes;
}

function lumaRange(pixels: Uint8Array): number {
  let min = 255;
  let max = 0;
  for (const value of pixels) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return max - min;
}

export interface BlocklistMatch {
  readonly matched: boolean;
  /** Sampled frames within `maxDistance` of some blocklisted hash. */
  readonly matchingFrames: number;
  readonly sampledFrames: number;
  /** Per matching frame: the closest blocklisted hash and its distance (for the audit record). */
  readonly hits: ReadonlyArray<{ readonly frame: PerceptualHash; readonly blocked: PerceptualHash; readonly distance: number }>;
}

export interface BlocklistMatchOptions {
  readonly maxDistance?: number;
  readonly minMatchingFrames?: number;
}

/**
 * Whether a video's sampled frame hashes match the blocklist: at least `minMatchingFrames`
 * (default 2, or every frame if fewer were sampled) frames within `maxDistance` (default 10 of
 * 64 bits) of any blocklisted hash. No frames sampled never matches. Linear scan: fine for
 * thousands of entries; a BK-tree would be the step after that.
 */
export function matchesBlocklist(
  frameHashes: readonly PerceptualHash[],
  blocklist: readonly PerceptualHash[],
  options: BlocklistMatchOptions = {},
): BlocklistMatch {
  const maxDistance = options.maxDistance ?? PERCEPTUAL_HASH_DEFAULTS.maxDistance;
  const required = Math.min(options.minMatchingFrames ?? PERCEPTUAL_HASH_DEFAULTS.minMatchingFrames, frameHashes.length);
  const blockedBits = blocklist.map((blocked) => ({ blocked, bits: hashBits(blocked) }));
  const hits: Array<{ frame: PerceptualHash; blocked: PerceptualHash; distance: number }> = [];
  for (const frame of frameHashes) {
    const frameBits = hashBits(frame);
    let best: { blocked: PerceptualHash; distance: number } | undefined;
    for (const { blocked, bits } of blockedBits) {
      const distance = popcount(frameBits ^ bits);
      if (distance <= maxDistance && (!best || distance < best.distance)) best = { blocked, distance };
    }
    if (best) hits.push({ frame, ...best });
  }
  return {
    matched: frameHashes.length > 0 && hits.length >= required,
    matchingFrames: hits.length,
    sampledFrames: frameHashes.length,
    hits,
  };
}
