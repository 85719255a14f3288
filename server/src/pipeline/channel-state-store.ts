import { BUCKETS, SKIP, jsonCodec, typedKv, type Bus, type KvConflictCounter, type TypedKv } from '../bus/index.js';
import { channelStateSchema, type ChannelState, type Transition } from './channel-state.js';

/** How many times a transition is recomputed when another worker wrote the channel meanwhile. */
const MAX_CAS_ATTEMPTS = 20;

type TransitionFn = (state: ChannelState) => Transition;

/** What one transition of `mutateInOrder` came to: the stored transition, or what it threw. */
export type TransitionOutcome = { readonly ok: Transition } | { readonly error: unknown };

interface PendingMutation {
  readonly initial: () => Promise<ChannelState>;
  /** Applied in order, each to the state the one before left. */
  readonly transitions: readonly TransitionFn[];
  readonly resolve: (outcomes: TransitionOutcome[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Channel state in the `channel-state` KV bucket, changed only by compare-and-set: a
 * transition is computed from the stored revision and written back only if nobody else wrote
 * in between; otherwise it is recomputed from the newer state. So several pipeline workers
 * (a fleet on NATS) never lose each other's updates.
 */
export class ChannelStateStore {
  /**
   * Mutations waiting per channel. While one batch for a channel is being written, new ones
   * queue here; the next batch applies all of them to one read of the state and writes once
   * (group commit). The pipeline runs up to max-ack-pending handlers at once: one by one,
   * a busy channel paid a KV read, an encode and a compare-and-set per event, and on NATS
   * concurrent handlers failed each other's compare-and-set; batched, a burst of events for
   * one channel costs one write, and conflicts come only from other processes.
   */
  private readonly pending = new Map<string, PendingMutation[]>();
  private readonly draining = new Set<string>();

  /**
   * States remembered by KV revision: they are never mutated (transitions clone), so an
   * unchanged revision reuses the object instead of paying for the JSON parse and schema
   * validation again on every event.
   */
  private constructor(private readonly states: TypedKv<ChannelState>) {}

  static async open(bus: Bus, options: { readonly conflicts?: KvConflictCounter } = {}): Promise<ChannelStateStore> {
    const bucket = await bus.kv(BUCKETS.channelState);
    return new ChannelStateStore(
      typedKv(bucket, jsonCodec(channelStateSchema), {
        rememberEntries: true,
        maxAttempts: MAX_CAS_ATTEMPTS,
        backoffMs: () => 0,
        ...(options.conflicts ? { conflicts: options.conflicts } : {}),
      }),
    );
  }

  async get(channel: string): Promise<ChannelState | undefined> {
    return (await this.states.get(channel))?.value;
  }

  async channels(): Promise<string[]> {
    return this.states.bucket.keys();
  }

  /**
   * Applies `transition` to the channel's current state (or `initial()` when it has none) and
   * stores the result atomically, in order with the channel's other mutations from this
   * process. Returns the transition that was stored; rejects when `transition` throws (other
   * mutations in the same batch are unaffected) or the store cannot be written.
   */
  mutate(channel: string, initial: () => Promise<ChannelState>, transition: TransitionFn): Promise<Transition> {
    return this.mutateInOrder(channel, initial, [transition]).then(([outcome]) => {
      if ('ok' in outcome!) return outcome.ok;
      throw outcome!.error;
    });
  }

  /**
   * `mutate` for a run of transitions of one channel (a consumer's batch): applied in order,
   * each to the state the one before left, and stored with one write. Resolves with each one's
   * outcome (a transition that throws is skipped: the next one sees the state before it);
   * rejects only when the store cannot be written. One promise for the run, not one per event.
   */
  mutateInOrder(channel: string, initial: () => Promise<ChannelState>, transitions: readonly TransitionFn[]): Promise<TransitionOutcome[]> {
    return new Promise((resolve, reject) => {
      const mutation = { initial, transitions, resolve, reject };
      const queue = this.pending.get(channel);
      if (queue) queue.push(mutation);
      else this.pending.set(channel, [mutation]);
      if (!this.draining.has(channel)) void this.drain(channel);
    });
  }

  private async drain(channel: string): Promise<void> {
    this.draining.add(channel);
    try {
      // One microtask first: mutations issued in the same tick (a consumer's batch) share the first write.
      await undefined;
      for (let batch = this.pending.get(channel); batch; batch = this.pending.get(channel)) {
        this.pending.delete(channel);
        try {
          const outcomes = await this.compareAndSet(channel, batch);
          batch.forEach((mutation, index) => mutation.resolve(outcomes[index]!));
        } catch (error) {
          for (const mutation of batch) mutation.reject(error);
        }
      }
    } finally {
      this.draining.delete(channel);
    }
  }

  /**
   * One `TypedKv.update` per batch. The first attempt starts from the entry this process last
   * wrote or read, without reading the store: the compare-and-set itself says whether that
   * revision is still the newest (a read per batch was a round trip per batch on NATS). When
   * another process wrote meanwhile, the write conflicts and the next attempt reads, at once (no
   * backoff: the batch is already this process's group commit). A batch that changes nothing is
   * only trusted against a fresh read, since it writes nothing that would check it; that read
   * reuses the decoded state when the revision has not moved.
   */
  private async compareAndSet(channel: string, batch: readonly PendingMutation[]): Promise<TransitionOutcome[][]> {
    let outcomes: TransitionOutcome[][] = [];
    const assumed = this.states.rememberedEntry(channel);
    await this.states.update(
      channel,
      async (stored) => {
        const current = stored ?? (await batch[0]!.initial());
        let state = current;
        outcomes = batch.map((mutation) =>
          mutation.transitions.map((transition): TransitionOutcome => {
            try {
              const result = transition(state);
              state = result.state;
              return { ok: result };
            } catch (error) {
              return { error };
            }
          }),
        );
        return stored && state === current ? SKIP : state;
      },
      assumed ? { assumed } : {},
    );
    return outcomes;
  }
}
