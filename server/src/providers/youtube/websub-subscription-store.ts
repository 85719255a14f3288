import { BUCKETS, KvConflictError, decodeJson, encodeJson, type Bus, type KvBucket } from '../../bus/index.js';
import { webSubSubscriptionSchema, type WebSubSubscription } from './websub-subscription.js';
import { isYouTubeChannelId } from './youtube-ids.js';

/** WebSub subscriptions by YouTube channel id, in KV: the callback may land on any process. */
export class WebSubSubscriptionStore {
  private constructor(private readonly bucket: KvBucket) {}

  static async open(bus: Bus): Promise<WebSubSubscriptionStore> {
    return new WebSubSubscriptionStore(await bus.kv(BUCKETS.youtubeWebsub));
  }

  async get(channelId: string): Promise<WebSubSubscription | undefined> {
    if (!isYouTubeChannelId(channelId)) return undefined;
    const entry = await this.bucket.get(channelId);
    return entry && decodeJson(entry.value, webSubSubscriptionSchema);
  }

  async channelIds(): Promise<string[]> {
    return (await this.bucket.keys()).filter(isYouTubeChannelId);
  }

  /**
   * Read-modify-write with compare-and-set, retried on a lost race. `change` returns the new
   * record, `null` to delete it, or `undefined` to leave it as it is. Resolves to what is stored.
   */
  async mutate(
    channelId: string,
    change: (current: WebSubSubscription | undefined) => WebSubSubscription | null | undefined,
  ): Promise<WebSubSubscription | undefined> {
    if (!isYouTubeChannelId(channelId)) throw new RangeError(`not a YouTube channel id: ${channelId}`);
    for (let attempt = 0; attempt < 10; attempt++) {
      const entry = await this.bucket.get(channelId);
      const current = entry && decodeJson(entry.value, webSubSubscriptionSchema);
      const next = change(current);
      if (next === undefined) return current;
      try {
        if (next === null) {
          if (entry) await this.bucket.delete(channelId);
          return undefined;
        }
        const value = encodeJson(webSubSubscriptionSchema.parse(next));
        if (entry) await this.bucket.update(channelId, value, entry.revision);
        else await this.bucket.create(channelId, value);
        return next;
      } catch (error) {
        if (!(error instanceof KvConflictError)) throw error;
      }
    }
    throw new Error(`websub subscription ${channelId} kept changing under us`);
  }
}
