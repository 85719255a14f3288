import { parseChannelRef, type LiveMetadata } from '@live-upload/schema';
import { BUCKETS, decodeJson, type Bus, type KvBucket, type KvWatchEvent, type Subscription } from '../bus/index.js';
import { channelConfigSchema, type ChannelConfig } from '../channels/index.js';
import type { LiveStatusHub } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import { engagementAt, type Engagement, type EngagementSource } from './engagement.js';
import { streamEntry, type StreamEntry } from './stream-entry.js';
import { sortStreams, type StreamSort } from './stream-index.js';

/** Channels loaded at once when the directory starts. */
const LOAD_CONCURRENCY = 16;

export interface StreamDirectoryDeps {
  readonly bus: Bus;
  readonly hub: LiveStatusHub;
  readonly logger: Logger;
  /** Our audience's engagement per broadcast, for `trending` (issue 27); absent: trending ranks by the providers' viewer counts. */
  readonly engagement?: EngagementSource;
}

/**
 * The discovery index in memory: one entry per configured channel (never more: entries come
 * from the `channel-config` bucket, not from names a client asks for), kept current from what
 * the hub already receives (`live.status.>`) and from the config bucket's watch (channels
 * created, renamed, deleted anywhere in the fleet). A request sorts the entries at most once per
 * change and order, and never reads the bus.
 */
export class StreamDirectory {
  private readonly entries = new Map<string, StreamEntry>();
  /** Bumped on every change; the sorted views are valid for one version. */
  private version = 0;
  private readonly sorted = new Map<StreamSort, { version: number; entries: readonly StreamEntry[] }>();
  /** Channels being looked up after a status arrived for a channel not in the index yet. */
  private readonly loading = new Set<string>();
  private stopListening: (() => void) | undefined;
  private configWatch: Subscription | undefined;
  private engagementWatch: Subscription | undefined;
  /** The current broadcast of each listed channel: canonical id -> channel. */
  private readonly broadcasts = new Map<string, string>();
  /** Engagement of the listed channels' current broadcasts, by canonical id. */
  private readonly engagements = new Map<string, Engagement>();

  private constructor(
    private readonly configs: KvBucket,
    private readonly hub: LiveStatusHub,
    private readonly logger: Logger,
    private readonly engagementSource: EngagementSource | undefined,
  ) {}

  static async open(deps: StreamDirectoryDeps): Promise<StreamDirectory> {
    return new StreamDirectory(await deps.bus.kv(BUCKETS.channelConfig), deps.hub, deps.logger, deps.engagement);
  }

  /** Follows status and config changes, then loads every configured channel once. */
  async start(): Promise<void> {
    if (this.stopListening) return;
    this.stopListening = this.hub.listenAll((record) => this.acceptRecord(record));
    this.engagementWatch = await this.engagementSource?.watch((canonicalId, engagement) => this.acceptEngagement(canonicalId, engagement));
    this.configWatch = await this.configs.watch((event) => void this.acceptConfigChange(event));
    const channels = await this.configs.keys();
    for (let index = 0; index < channels.length; index += LOAD_CONCURRENCY) {
      await Promise.all(channels.slice(index, index + LOAD_CONCURRENCY).map((channel) => this.refreshChannel(channel)));
    }
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = undefined;
    this.configWatch?.unsubscribe();
    this.configWatch = undefined;
    this.engagementWatch?.unsubscribe();
    this.engagementWatch = undefined;
  }

  /** Channels in the index. */
  get size(): number {
    return this.entries.size;
  }

  /** Every entry in `sort` order; the same array until the index changes. */
  sortedBy(sort: StreamSort): readonly StreamEntry[] {
    const cached = this.sorted.get(sort);
    if (cached?.version === this.version) return cached.entries;
    const entries = sortStreams(this.entries.values(), sort);
    this.sorted.set(sort, { version: this.version, entries });
    return entries;
  }

  /**
   * Re-reads one channel's config and current record (the admin just changed it, or it was
   * found at start); a channel without a config leaves the index. Never throws.
   */
  async refreshChannel(channel: string): Promise<void> {
    if (!parseChannelRef(channel)) return;
    try {
      const entry = await this.configs.get(channel);
      if (!entry) {
        this.remove(channel);
        return;
      }
      await this.applyConfig(channel, decodeJson(entry.value, channelConfigSchema));
    } catch (error) {
      this.logger.warn({ err: error, channel }, 'discovery index: could not load a channel');
    }
  }

  private async acceptConfigChange(event: KvWatchEvent): Promise<void> {
    if (event.value === undefined) {
      this.remove(event.key);
      return;
    }
    try {
      await this.applyConfig(event.key, decodeJson(event.value, channelConfigSchema));
    } catch (error) {
      this.logger.warn({ err: error, channel: event.key }, 'discovery index: dropped a malformed channel config');
    }
  }

  private async applyConfig(channel: string, config: ChannelConfig): Promise<void> {
    const current = await this.hub.current(channel);
    if (current) this.put(channel, config.title, current.record);
  }

  /** A status change: applied to a channel in the index; a channel not in it yet is looked up once. */
  private acceptRecord(record: LiveMetadata): void {
    const known = this.entries.get(record.channel);
    if (known) {
      this.put(record.channel, known.channelTitle, record);
      return;
    }
    if (this.loading.has(record.channel)) return;
    this.loading.add(record.channel);
    void this.refreshChannel(record.channel).finally(() => this.loading.delete(record.channel));
  }

  /** Stores the entry unless the index holds a newer record of the channel (records and configs race). */
  private put(channel: string, channelTitle: string | null, record: LiveMetadata | StreamEntry['record']): void {
    const known = this.entries.get(channel);
    const newest = known && known.record.seq > record.seq ? known.record : record;
    const broadcast = newest.canonical_id;
    if (known?.record.canonical_id && known.record.canonical_id !== broadcast) this.forgetBroadcast(known.record.canonical_id);
    if (broadcast !== null && !this.broadcasts.has(broadcast)) {
      this.broadcasts.set(broadcast, channel);
      this.loadEngagement(broadcast);
    }
    // Re-scored at each status change (at least every viewer count update): our viewers age out once no beacon counts them.
    this.entries.set(channel, streamEntry(newest, channelTitle, broadcast === null ? undefined : engagementAt(this.engagements.get(broadcast), Date.now())));
    this.version++;
  }

  private remove(channel: string): void {
    const known = this.entries.get(channel);
    if (known?.record.canonical_id) this.forgetBroadcast(known.record.canonical_id);
    if (this.entries.delete(channel)) this.version++;
  }

  private forgetBroadcast(canonicalId: string): void {
    this.broadcasts.delete(canonicalId);
    this.engagements.delete(canonicalId);
  }

  /** A listed broadcast's engagement changed (any replica's aggregator): its entry is re-scored. */
  private acceptEngagement(canonicalId: string, engagement: Engagement): void {
    const channel = this.broadcasts.get(canonicalId);
    const known = channel === undefined ? undefined : this.entries.get(channel);
    if (!known || known.record.canonical_id !== canonicalId) return;
    this.engagements.set(canonicalId, engagement);
    this.entries.set(known.channel, streamEntry(known.record, known.channelTitle, engagementAt(engagement, Date.now())));
    this.version++;
  }

  /** The engagement counted so far for a broadcast newly listed. Never throws. */
  private loadEngagement(canonicalId: string): void {
    if (!this.engagementSource) return;
    this.engagementSource.current(canonicalId).then(
      (engagement) => {
        if (engagement && !this.engagements.has(canonicalId)) this.acceptEngagement(canonicalId, engagement);
      },
      (error: unknown) => this.logger.warn({ err: error, canonicalId }, 'discovery index: could not read a broadcast\'s engagement'),
    );
  }
}
