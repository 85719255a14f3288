import { BUCKETS, KvContentionError, jsonCodec, typedKv, type Bus, type KvChange, type KvUpdateOptions, type KvUpdateResult, type TypedKv } from '../../bus/index.js';
import { liveVideoRecordSchema, type LiveVideoRecord } from './decide-observation.js';
import { isYouTubeVideoId } from './youtube-ids.js';

export interface StoredLiveVideo {
  readonly record: LiveVideoRecord;
  readonly revision: number;
}

/** Videos we published as live, by video id, in KV (shared by the confirmer and the poller). */
export class LiveVideoStore {
  private constructor(private readonly videos: TypedKv<LiveVideoRecord>) {}

  static async open(bus: Bus): Promise<LiveVideoStore> {
    return new LiveVideoStore(typedKv(await bus.kv(BUCKETS.youtubeLiveVideos), jsonCodec(liveVideoRecordSchema, { validateWrites: true })));
  }

  async get(videoId: string): Promise<StoredLiveVideo | undefined> {
    if (!isYouTubeVideoId(videoId)) return undefined;
    const entry = await this.videos.get(videoId);
    return entry && { record: entry.value, revision: entry.revision };
  }

  async list(): Promise<LiveVideoRecord[]> {
    const records: LiveVideoRecord[] = [];
    for (const key of await this.videos.bucket.keys()) {
      const stored = await this.get(key);
      if (stored) records.push(stored.record);
    }
    return records;
  }

  /** Read-modify-write of one video through `TypedKv.update` (retried on a lost race; `KvContentionError` when it gives up). */
  update(videoId: string, change: KvChange<LiveVideoRecord>, options?: KvUpdateOptions<LiveVideoRecord>): Promise<KvUpdateResult<LiveVideoRecord>> {
    return this.videos.update(videoId, change, options);
  }

  /**
   * Writes `record` (null: deletes) if the video is still at `previous`'s revision. False when
   * another writer got there first: the caller decides again from a fresh read.
   */
  async replace(videoId: string, previous: StoredLiveVideo | undefined, record: LiveVideoRecord | null): Promise<boolean> {
    if (record === null && !previous) return true;
    try {
      // One compare-and-set from `previous`, no read; a delete is checked on a fresh read.
      await this.videos.update(
        videoId,
        (_current, entry) => {
          if (record === null && !entry) return undefined; // already gone
          if (entry?.revision !== previous?.revision) throw new StaleVideoError();
          return record ?? undefined;
        },
        { assumed: previous ? { key: videoId, value: previous.record, revision: previous.revision } : null, maxAttempts: 1 },
      );
      return true;
    } catch (error) {
      if (error instanceof KvContentionError || error instanceof StaleVideoError) return false;
      throw error;
    }
  }
}

/** The video moved on since `previous` was read. */
class StaleVideoError extends Error {}
