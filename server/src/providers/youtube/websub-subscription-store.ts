import { BUCKETS, SKIP, jsonCodec, typedKv, type Bus, type KvConflictCounter, type TypedKv } from '../../bus/index.js';
import { webSubSubscriptionSchema, type WebSubSubscription } from './websub-subscription.js';
import { isYouTubeChannelId } from './youtube-ids.js';

/** WebSub subscriptions by YouTube channel id, in KV: the callback may land on any process. */
export class WebSubSubscriptionStore {
  private constructor(private readonly subscriptions: TypedKv<WebSubSubscription>) {}

  static async open(bus: Bus, options: { readonly conflicts?: KvConflictCounter } = {}): Promise<WebSubSubscriptionStore> {
    const bucket = await bus.kv(BUCKETS.youtubeWebsub);
    return new WebSubSubscriptionStore(typedKv(bucket, jsonCodec(webSubSubscriptionSchema, { validateWrites: true }), { conflicts: options.conflicts }));
  }

  async get(channelId: string): Promise<WebSubSubscription | undefined> {
    if (!isYouTubeChannelId(channelId)) return undefined;
    return (await this.subscriptions.get(channelId))?.value;
  }

  async channelIds(): Promise<string[]> {
    return (await this.subscriptions.bucket.keys()).filter(isYouTubeChannelId);
  }

  /**
   * Read-modify-write with compare-and-set, retried on a lost race (`TypedKv.update`). `change`
   * returns the new record, `null` to delete it, or `undefined` to leave it as it is. Resolves
   * to what is stored; a `KvContentionError` when other writers kept winning.
   */
  async mutate(
    channelId: string,
    change: (current: WebSubSubscription | undefined) => WebSubSubscription | null | undefined,
  ): Promise<WebSubSubscription | undefined> {
    if (!isYouTubeChannelId(channelId)) throw new RangeError(`not a YouTube channel id: ${channelId}`);
    const result = await this.subscriptions.update(channelId, (current) => {
      const next = change(current);
      return next === undefined ? SKIP : next === null ? undefined : next;
    });
    return result.value;
  }
}
