import { ulid } from 'ulid';
import { z } from 'zod';
import { BUCKETS, decodeJson, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { perceptualHashSchema, type PerceptualHash } from '../media/index.js';

/** One blocklisted clip: the frame hashes of a known bad video, added by an admin. */
export const blocklistEntrySchema = z.object({
  id: z.string(),
  hashes: z.array(perceptualHashSchema).min(1).max(256),
  label: z.string().nullable(),
  /** The upload whose frames were hashed, when the entry was made from one. */
  upload_id: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
});
export type BlocklistEntry = z.infer<typeof blocklistEntrySchema>;

/** The perceptual-hash blocklist in the `hash-blocklist` KV bucket, one key per entry. */
export class HashBlocklist {
  private constructor(
    private readonly bucket: KvBucket,
    private readonly now: () => number,
  ) {}

  static async open(bus: Bus, now: () => number = Date.now): Promise<HashBlocklist> {
    return new HashBlocklist(await bus.kv(BUCKETS.hashBlocklist), now);
  }

  async add(entry: { hashes: readonly PerceptualHash[]; label: string | null; uploadId: string | null; createdBy: string }): Promise<BlocklistEntry> {
    const nowMs = this.now();
    const stored = blocklistEntrySchema.parse({
      id: ulid(nowMs),
      hashes: [...new Set(entry.hashes)],
      label: entry.label,
      upload_id: entry.uploadId,
      created_by: entry.createdBy,
      created_at: new Date(nowMs).toISOString(),
    });
    await this.bucket.create(stored.id, encodeJson(stored));
    return stored;
  }

  /** Every entry, oldest first. */
  async list(): Promise<BlocklistEntry[]> {
    const entries: BlocklistEntry[] = [];
    for (const key of (await this.bucket.keys()).sort()) {
      const found = await this.bucket.get(key);
      if (found) entries.push(decodeJson(found.value, blocklistEntrySchema));
    }
    return entries;
  }

  /** False when there was no such entry. */
  async remove(id: string): Promise<boolean> {
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id) || !(await this.bucket.get(id))) return false;
    await this.bucket.delete(id);
    return true;
  }
}
