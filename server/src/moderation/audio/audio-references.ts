import { ulid } from 'ulid';
import { z } from 'zod';
import { BUCKETS, decodeJson, encodeJson, type Bus, type KvBucket } from '../../bus/index.js';
import { CHROMAPRINT_ALGORITHM, MAX_STORED_SUB_FINGERPRINTS, decodeFingerprint, encodeFingerprint, encodedFingerprintSchema, fingerprintDurationS } from './audio-fingerprint.js';
import { SubFingerprintIndex } from './sub-fingerprint-index.js';

/** Reference ids are ULIDs: minted by the replica that adds them, sorted by creation time. */
export const AUDIO_REFERENCE_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * One reference a rights holder or an admin added: the fingerprint of audio that uploads must
 * not reuse, and who it belongs to. The file it was made from is never kept.
 */
export const audioReferenceSchema = z.object({
  id: z.string().regex(AUDIO_REFERENCE_ID_PATTERN),
  title: z.string().min(1).max(200),
  /** The rights holder, as the admin named them. */
  owner: z.string().max(200).nullable(),
  notes: z.string().max(1000).nullable(),
  /** Chromaprint algorithm of the fingerprint (a reference of another algorithm would never match). */
  algorithm: z.literal(CHROMAPRINT_ALGORITHM),
  fingerprint: encodedFingerprintSchema,
  /** Seconds of audio the fingerprint describes. */
  duration_s: z.number().nonnegative(),
  created_by: z.string(),
  created_at: z.string(),
});
export type AudioReference = z.infer<typeof audioReferenceSchema>;

/** A reference as listed: everything but the fingerprint (kilobytes per minute of audio, of use to no reader). */
export type AudioReferenceSummary = Omit<AudioReference, 'fingerprint'>;

/** The references a check matches against, decoded, with their index. */
export interface AudioReferenceSet {
  readonly references: readonly AudioReference[];
  /** Reference `n` of `references` is reference `n` of the index. */
  readonly index: SubFingerprintIndex;
}

export interface AudioReferencePage {
  readonly references: AudioReferenceSummary[];
  /** Pass as `after` for the next page; null on the last. */
  readonly next_after: string | null;
}

/**
 * The audio references in the `audio-references` KV bucket, one key per reference id. Every
 * replica reads the bucket, so a reference added through one is matched by all; a reference is
 * written once (create) and never changed, so what a replica decoded stays valid until the key
 * is gone, and `matchingSet` re-reads only the keys it has not seen.
 */
export class AudioReferences {
  private decoded = new Map<string, { reference: AudioReference; frames: Uint32Array }>();
  private set: { keys: string; value: AudioReferenceSet } | undefined;

  private constructor(
    private readonly bucket: KvBucket,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, now: () => number = Date.now): Promise<AudioReferences> {
    return new AudioReferences(await bus.kv(BUCKETS.audioReferences), now);
  }

  async add(reference: { frames: Uint32Array; title: string; owner: string | null; notes: string | null; createdBy: string }): Promise<AudioReference> {
    if (reference.frames.length === 0 || reference.frames.length > MAX_STORED_SUB_FINGERPRINTS) {
      throw new RangeError(`a reference holds 1 to ${MAX_STORED_SUB_FINGERPRINTS} sub-fingerprints, got ${reference.frames.length}`);
    }
    const nowMs = this.now();
    const stored = audioReferenceSchema.parse({
      id: ulid(nowMs),
      title: reference.title,
      owner: reference.owner,
      notes: reference.notes,
      algorithm: CHROMAPRINT_ALGORITHM,
      fingerprint: encodeFingerprint(reference.frames),
      duration_s: Math.round(fingerprintDurationS(reference.frames.length) * 1000) / 1000,
      created_by: reference.createdBy,
      created_at: new Date(nowMs).toISOString(),
    });
    await this.bucket.create(stored.id, encodeJson(stored));
    return stored;
  }

  async get(id: string): Promise<AudioReference | undefined> {
    if (!AUDIO_REFERENCE_ID_PATTERN.test(id)) return undefined;
    const found = await this.bucket.get(id);
    return found ? decodeJson(found.value, audioReferenceSchema) : undefined;
  }

  /** Oldest first, `limit` at a time, after the reference id `after` (exclusive). */
  async page(options: { limit: number; after?: string }): Promise<AudioReferencePage> {
    const keys = (await this.bucket.keys()).sort().filter((key) => options.after === undefined || key > options.after);
    const references: AudioReferenceSummary[] = [];
    let last: string | undefined;
    for (const key of keys) {
      if (references.length === options.limit) break;
      last = key;
      const found = await this.bucket.get(key);
      if (!found) continue; // Removed since the listing.
      const { fingerprint: _fingerprint, ...summary } = decodeJson(found.value, audioReferenceSchema);
      references.push(summary);
    }
    const more = last !== undefined && keys.at(-1) !== last;
    return { references, next_after: more ? (last ?? null) : null };
  }

  /** False when there was no such reference. */
  async remove(id: string): Promise<boolean> {
    if (!AUDIO_REFERENCE_ID_PATTERN.test(id) || !(await this.bucket.get(id))) return false;
    await this.bucket.delete(id);
    return true;
  }

  /**
   * Every reference, decoded and indexed for matching. The index is rebuilt only when the
   * set of keys changed since the last call (a reference added or removed on any replica).
   */
  async matchingSet(): Promise<AudioReferenceSet> {
    const keys = (await this.bucket.keys()).sort();
    const signature = keys.join(',');
    if (this.set?.keys === signature) return this.set.value;
    const decoded = new Map<string, { reference: AudioReference; frames: Uint32Array }>();
    for (const key of keys) {
      const known = this.decoded.get(key);
      if (known) {
        decoded.set(key, known);
        continue;
      }
      const found = await this.bucket.get(key);
      if (!found) continue;
      const reference = decodeJson(found.value, audioReferenceSchema);
      decoded.set(key, { reference, frames: decodeFingerprint(reference.fingerprint) });
    }
    this.decoded = decoded;
    const entries = [...decoded.values()];
    const value = { references: entries.map((entry) => entry.reference), index: SubFingerprintIndex.build(entries.map((entry) => entry.frames)) };
    // A key that vanished between the listing and the read is left out; the next call sees the shorter listing and rebuilds.
    this.set = { keys: entries.length === keys.length ? signature : '', value };
    return value;
  }
}
