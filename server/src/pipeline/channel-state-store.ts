import { BUCKETS, KvConflictError, decodeJson, encodeJson, type Bus, type KvBucket, type KvEntry } from '../bus/index.js';
import { channelStateSchema, type ChannelState, type Transition } from './channel-state.js';

/** How many times a transition is recomputed when another worker wrote the channel meanwhile. */
const MAX_CAS_ATTEMPTS = 20;

/**
 * Channel state in the `channel-state` KV bucket, changed only by compare-and-set: a
 * transition is computed from the stored revision and written back only if nobody else wrote
 * in between; otherwise it is recomputed from the newer state. So several pipeline workers
 * (a fleet on NATS) never lose each other's updates.
 */
export class ChannelStateStore {
  /**
   * The tail of each channel's in-process mutation queue. The pipeline runs up to max-ack-pending
   * handlers at once, and for one busy channel they would all read the same revision and then
   * fail each other's compare-and-set (on NATS most attempts did, under load); queued, they
   * conflict only with other processes.
   */
  private readonly queues = new Map<string, Promise<unknown>>();

  /**
   * The last state this process decoded or wrote per channel, by KV revision. States are never
   * mutated (transitions clone), so an unchanged revision reuses the object instead of paying
   * for the JSON parse and schema validation again on every event.
   */
  private readonly decoded = new Map<string, { revision: number; state: ChannelState }>();

  private constructor(private readonly kv: KvBucket) {}

  static async open(bus: Bus): Promise<ChannelStateStore> {
    return new ChannelStateStore(await bus.kv(BUCKETS.channelState));
  }

  async get(channel: string): Promise<ChannelState | undefined> {
    const entry = await this.kv.get(channel);
    return entry && this.decode(channel, entry);
  }

  async channels(): Promise<string[]> {
    return this.kv.keys();
  }

  /**
   * Applies `transition` to the channel's current state (or `initial()` when it has none) and
   * stores the result atomically. Returns the transition that was stored.
   */
  mutate(channel: string, initial: () => Promise<ChannelState>, transition: (state: ChannelState) => Transition): Promise<Transition> {
    const run = (this.queues.get(channel) ?? Promise.resolve()).then(() => this.compareAndSet(channel, initial, transition));
    const tail = run.catch(() => undefined);
    this.queues.set(channel, tail);
    void tail.then(() => {
      if (this.queues.get(channel) === tail) this.queues.delete(channel);
    });
    return run;
  }

  private async compareAndSet(
    channel: string,
    initial: () => Promise<ChannelState>,
    transition: (state: ChannelState) => Transition,
  ): Promise<Transition> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.kv.get(channel);
      const current = entry ? this.decode(channel, entry) : await initial();
      const result = transition(current);
      if (entry && result.state === current) return result;
      try {
        const revision = entry
          ? await this.kv.update(channel, encodeJson(result.state), entry.revision)
          : await this.kv.create(channel, encodeJson(result.state));
        this.decoded.set(channel, { revision, state: result.state });
        return result;
      } catch (error) {
        if (!(error instanceof KvConflictError)) throw error;
      }
    }
    throw new Error(`channel ${channel}: gave up after ${MAX_CAS_ATTEMPTS} concurrent writes`);
  }

  private decode(channel: string, entry: KvEntry): ChannelState {
    const cached = this.decoded.get(channel);
    if (cached?.revision === entry.revision) return cached.state;
    const state = decodeJson(entry.value, channelStateSchema);
    this.decoded.set(channel, { revision: entry.revision, state });
    return state;
  }
}
