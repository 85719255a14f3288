import { liveMetadataSchema, parseChannelRef, type LiveMetadata } from '@live-upload/schema';
import { SUBJECTS, decodeJson, type Bus, type Subscription } from '../bus/index.js';
import type { Logger } from '../observability/index.js';

/** Reads a channel's current canonical record; undefined when the channel does not exist. */
export type CanonicalRecordReader = (channel: string) => Promise<LiveMetadata | undefined>;

export type StatusListener = (record: LiveMetadata, serialized: string) => void;

interface ChannelEntry {
  current: LiveMetadata | undefined;
  serialized: string | undefined;
  /** The last emitted records, oldest first, for `Last-Event-ID` replay. */
  readonly history: Array<{ record: LiveMetadata; serialized: string }>;
  readonly listeners: Set<StatusListener>;
}

/**
 * One process-wide view of live status for the SSE route: subscribes once to
 * `live.status.>`, keeps the current record and a short history per channel, and fans each
 * change out to listeners with the JSON serialized once.
 */
export class LiveStatusHub {
  private readonly channels = new Map<string, ChannelEntry>();
  /** Listeners to every channel's changes (an index kept over all channels), not per channel. */
  private readonly allChannelListeners = new Set<StatusListener>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly readRecord: CanonicalRecordReader,
    /** The record of a channel that does not exist (yet): offline, `seq` 0. Never cached. */
    readonly placeholder: (channel: string) => LiveMetadata,
    private readonly logger: Logger,
    private readonly historySize = 64,
  ) {}

  start(): void {
    this.subscription ??= this.bus.subscribe(SUBJECTS.liveStatusAll, (subject, data) => {
      try {
        this.accept(decodeJson(data, liveMetadataSchema));
      } catch (error) {
        this.logger.warn({ err: error, subject }, 'dropped a malformed status message');
      }
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /**
   * The current record (cached, else read once); undefined for an unknown channel, which is not
   * remembered: anyone can ask for any well-formed name, and each one kept would be memory
   * held for nothing. A channel that never emitted is read each time (see below).
   */
  async current(channel: string): Promise<{ record: LiveMetadata; serialized: string } | undefined> {
    const cached = this.channels.get(channel);
    if (cached?.current !== undefined) return { record: cached.current, serialized: cached.serialized! };
    const record = await this.readRecord(channel);
    if (record === undefined) return undefined;
    // Never emitted (`seq` 0): the record follows the channel's config (title, links, playback)
    // with no status event to tell this hub, or another process's, when the admin changes it.
    // So it is read afresh each time, and kept only from the first emit on.
    if (record.seq === 0) return { record, serialized: JSON.stringify(record) };
    const entry = this.entry(channel);
    this.remember(entry, record);
    return { record: entry.current!, serialized: entry.serialized! };
  }

  /** Channels this hub holds state for (followed, or known and asked for). */
  get trackedChannels(): number {
    return this.channels.size;
  }

  /**
   * Records emitted after `seq`, oldest first, when the history still holds all of them;
   * undefined when there is a gap (the caller sends a fresh snapshot instead).
   */
  since(channel: string, seq: number): Array<{ record: LiveMetadata; serialized: string }> | undefined {
    const entry = this.channels.get(channel);
    if (!entry?.current) return undefined;
    if (seq === entry.current.seq) return [];
    // A cursor ahead of us (the server lost its memory) gets a snapshot, not silence.
    if (seq > entry.current.seq) return undefined;
    const missed = entry.history.filter((item) => item.record.seq > seq);
    return missed[0]?.record.seq === seq + 1 ? missed : undefined;
  }

  listen(channel: string, listener: StatusListener): () => void {
    const entry = this.entry(channel);
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
      // Channels nobody follows and that do not exist are not kept: unknown names cost nothing.
      if (entry.listeners.size === 0 && entry.current === undefined) this.channels.delete(channel);
    };
  }

  /** Every record this hub applies from now on, whatever its channel. */
  listenAll(listener: StatusListener): () => void {
    this.allChannelListeners.add(listener);
    return () => {
      this.allChannelListeners.delete(listener);
    };
  }

  /** Applies a record (from the bus); older or equal `seq` is ignored. */
  accept(record: LiveMetadata): void {
    if (!parseChannelRef(record.channel)) return;
    const entry = this.entry(record.channel);
    if (entry.current && record.seq <= entry.current.seq) return;
    const serialized = this.remember(entry, record);
    entry.history.push({ record, serialized });
    if (entry.history.length > this.historySize) entry.history.shift();
    // `forEach`, not `for...of`: the iterator's result objects were 28 bytes per subscriber per
    // change, the fan-out's one allocation of ours beyond the writes (issue 26).
    entry.listeners.forEach((listener) => listener(record, serialized));
    this.allChannelListeners.forEach((listener) => listener(record, serialized));
  }

  private remember(entry: ChannelEntry, record: LiveMetadata): string {
    if (entry.current && entry.current.seq > record.seq) return entry.serialized!;
    entry.current = record;
    entry.serialized = JSON.stringify(record);
    return entry.serialized;
  }

  private entry(channel: string): ChannelEntry {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { current: undefined, serialized: undefined, history: [], listeners: new Set() };
      this.channels.set(channel, entry);
    }
    return entry;
  }
}
