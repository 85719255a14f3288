import { z } from 'zod';

/**
 * A Chromaprint fingerprint: one 32-bit sub-fingerprint per hop of audio, made by ffmpeg's
 * `chromaprint` muxer with the default algorithm (1, `CHROMAPRINT_ALGORITHM_TEST2`, the one
 * fpcalc and AcoustID use). Chromaprint resamples to 11025 Hz mono, takes 4096-sample frames
 * every 1365 samples, folds each frame's spectrum into 12 pitch classes (chroma) and runs 16
 * classifiers over a sliding image of 16+ chroma rows; each classifier gives 2 bits (Gray code).
 * So a sub-fingerprint summarises about 2.7 s of sound, and one starts every 0.1238 s.
 */
export const CHROMAPRINT_ALGORITHM = 1;

/** Samples per second chromaprint works at (and ffmpeg resamples to before it). */
export const CHROMAPRINT_SAMPLE_RATE = 11025;

/** Seconds from one sub-fingerprint to the next: 1365 samples at 11025 Hz. */
export const SUB_FINGERPRINT_STEP_S = 1365 / CHROMAPRINT_SAMPLE_RATE;

/**
 * Seconds of audio one sub-fingerprint depends on: 20 hops (16 classifier rows after the
 * 5-tap chroma filter) plus one 4096-sample frame.
 */
export const SUB_FINGERPRINT_WINDOW_S = (19 * 1365 + 4096) / CHROMAPRINT_SAMPLE_RATE;

/** The time (seconds from the start of the audio) that sub-fingerprint `index` is centred on. */
export function subFingerprintCentreS(index: number): number {
  return index * SUB_FINGERPRINT_STEP_S + SUB_FINGERPRINT_WINDOW_S / 2;
}

/** Seconds of audio `frames` sub-fingerprints describe (0 for none). */
export function fingerprintDurationS(frames: number): number {
  return frames === 0 ? 0 : (frames - 1) * SUB_FINGERPRINT_STEP_S + SUB_FINGERPRINT_WINDOW_S;
}

/**
 * Sub-fingerprints at most for a stored fingerprint: 4 hours of audio, 465 KiB as raw bytes and
 * 620 KiB in base64, under NATS's default 1 MiB message (a KV value is one message).
 */
export const MAX_STORED_SUB_FINGERPRINTS = Math.ceil((4 * 3600) / SUB_FINGERPRINT_STEP_S);

/**
 * A fingerprint as stored and sent: the sub-fingerprints as little-endian unsigned 32-bit
 * integers, base64. The stored form is the raw one (not chromaprint's compressed one): a
 * reference of a 3 min song is 5.8 KB raw, 7.8 KB in base64, and it decodes with no library.
 */
export const encodedFingerprintSchema = z
  .string()
  .min(1)
  .max(Math.ceil((MAX_STORED_SUB_FINGERPRINTS * 4) / 3) * 4)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
  .refine((value) => value.length % 4 === 0 && base64ByteLength(value) % 4 === 0, { message: 'a whole number of 32-bit sub-fingerprints in base64' });

/** The sub-fingerprints as base64 of their little-endian bytes. */
export function encodeFingerprint(frames: Uint32Array): string {
  const bytes = Buffer.alloc(frames.length * 4);
  for (let index = 0; index < frames.length; index += 1) bytes.writeUInt32LE(frames[index]!, index * 4);
  return bytes.toString('base64');
}

/** The sub-fingerprints of an encoded fingerprint; throws on anything `encodedFingerprintSchema` refuses. */
export function decodeFingerprint(encoded: string): Uint32Array {
  const bytes = Buffer.from(encodedFingerprintSchema.parse(encoded), 'base64');
  return subFingerprintsOf(bytes);
}

/** Sub-fingerprints from chromaprint's raw output (native order: little-endian on every platform we run on); a trailing partial word is dropped. */
export function subFingerprintsOf(raw: Uint8Array): Uint32Array {
  const frames = new Uint32Array(Math.floor(raw.length / 4));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let index = 0; index < frames.length; index += 1) frames[index] = view.getUint32(index * 4, true);
  return frames;
}

function base64ByteLength(value: string): number {
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return (value.length / 4) * 3 - padding;
}
