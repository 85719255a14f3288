import { parseChannelRef, type LiveMetadata } from '@live-upload/schema';
import { BUCKETS, decodeJson, type Bus, type KvBucket, type KvWatchEvent, type Subscription } from '../bus/index.js';
import { channelConfigSchema, type ChannelConfig } from '../channels/index.js';
import type { LiveStatusHub } from '../live/index.js';
import type { Logger } from '../observability/index.js';
import { streamEntry, type StreamEntry } from './stream-entry.js';
import { sortStreams, type StreamSort } from './stream-index.js';

/** Channels loaded at once when the directory starts. */
const LOAD_CONCURRENCY = 16;

export interface StreamDirectoryDeps {
  readonly bus: Bus;
  readonly hub: LiveStatusHub;
  readonly logger: Logger;
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

  private constructor(
    private readonly configs: KvBucket,
    private readonly hub: LiveStatusHub,
    private readonly logger: Logger,
  ) {}

  static async open(deps: StreamDirectoryDeps): Promise<StreamDirectory> {
    return new StreamDirectory(await deps.bus.kv(BUCKETS.channelConfig), deps.hub, deps.logger);
  }

  /** Follows status and config changes, then loads every configured channel once. */
  async start(): Promise<void> {
    if (this.stopListening) return;
    this.stopListening = this.hub.listenAll((record) => this.acceptRecord(record));
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
    this.entries.set(channel, streamEntry(newest, channelTitle));
    this.version++;
  }

  private remove(channel: string): void {
    if (this.entries.delete(channel)) this.version++;
  }
}
