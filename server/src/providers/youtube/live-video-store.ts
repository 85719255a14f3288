import { BUCKETS, KvConflictError, decodeJson, encodeJson, type Bus, type KvBucket } from '../../bus/index.js';
import { liveVideoRecordSchema, type LiveVideoRecord } from './decide-observation.js';
import { isYouTubeVideoId } from './youtube-ids.js';

export interface StoredLiveVideo {
  readonly record: LiveVideoRecord;
  readonly revision: number;
}

/** Videos we published as live, by video id, in KV (shared by the confirmer and the poller). */
export class LiveVideoStore {
  private constructor(private readonly bucket: KvBucket) {}

  static async open(bus: Bus): Promise<LiveVideoStore> {
    return new LiveVideoStore(await bus.kv(BUCKETS.youtubeLiveVideos));
  }

  async get(videoId: string): Promise<StoredLiveVideo | undefined> {
    if (!isYouTubeVideoId(videoId)) return undefined;
    const entry = await this.bucket.get(videoId);
    return entry && { record: decodeJson(entry.value, liveVideoRecordSchema), revision: entry.revision };
  }

  async list(): Promise<LiveVideoRecord[]> {
    const records: LiveVideoRecord[] = [];
    for (const key of await this.bucket.keys()) {
      const stored = await this.get(key);
      if (stored) records.push(stored.record);
    }
    return records;
  }

  /**
   * Writes `record` (null: deletes) if the video is still at `previous`'s revision. False when
   * another writer got there first: the caller decides again from a fresh read.
   */
  async replace(videoId: string, previous: StoredLiveVideo | undefined, record: LiveVideoRecord | null): Promise<boolean> {
    try {
      if (record === null) {
        if (!previous) return true;
        const current = await this.bucket.get(videoId);
        if (current && current.revision !== previous.revision) return false;
        if (current) await this.bucket.delete(videoId);
        return true;
      }
      const value = encodeJson(liveVideoRecordSchema.parse(record));
      if (previous) await this.bucket.update(videoId, value, previous.revision);
      else await this.bucket.create(videoId, value);
      return true;
    } catch (error) {
      if (error instanceof KvConflictError) return false;
      throw error;
    }
  }
}
