import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { BUCKETS, createMemoryBus, createNatsBus, encodeJson, type Bus, type KvBucket } from '../bus/index.js';
import { initialChannelState, type ChannelState, type Transition } from './channel-state.js';
import { ChannelStateStore } from './channel-state-store.js';

const CHANNEL = 'acme/morning-show';
const initial = async () => initialChannelState(CHANNEL, Date.parse('2026-01-01T00:00:00Z'));

/** A transition that only counts: `seq` + 1, so the final `seq` says how many were applied, in order. */
function countUp(expectSeq?: number) {
  return (state: ChannelState): Transition => {
    if (expectSeq !== undefined) assert.equal(state.record.seq, expectSeq, 'applied in call order');
    return { state: { ...state, record: { ...state.record, seq: state.record.seq + 1 } }, emit: null, wakeAtMs: null, applied: true };
  };
}

describeEachBus('channel state store: group commit', (busUnderTest) => {
  let bus: Bus;
  before(async () => {
    const url = busUnderTest.natsUrl();
    bus = url ? await createNatsBus({ url, name: 'state-store-test' }) : createMemoryBus();
  });
  after(async () => {
    await bus.close();
  });

  /** A store on `on` (default: this bus), the state bucket, and a channel of the test's own, with its initial state. */
  const ownChannel = async (name: string, on: Bus = bus) => {
    const channel = `${CHANNEL}-${name}-${busUnderTest.kind}`;
    return { store: await ChannelStateStore.open(on), kv: await bus.kv(BUCKETS.channelState), channel, start: async () => initialChannelState(channel, 0) };
  };

  it('applies a burst for one channel in call order, with far fewer writes than mutations', async () => {
    const { store, kv, channel, start } = await ownChannel('burst');
    await store.mutate(channel, start, countUp(0));
    const created = (await kv.get(channel))!.revision;

    const results = await Promise.all(Array.from({ length: 200 }, (_, index) => store.mutate(channel, start, countUp(index + 1))));
    assert.deepEqual(
      results.map((result) => result.state.record.seq),
      Array.from({ length: 200 }, (_, index) => index + 2),
      'each caller gets the state after its own transition',
    );
    assert.equal((await store.get(channel))?.record.seq, 201);
    // Revisions are per bucket; nothing else writes to it during this test.
    const writes = (await kv.get(channel))!.revision - created;
    assert.ok(writes >= 1 && writes <= 5, `200 queued mutations took ${writes} writes`);
  });

  it('a transition that throws rejects only its own caller; the rest of its batch is stored', async () => {
    const { store, channel, start } = await ownChannel('throws');
    const outcomes = await Promise.allSettled([
      store.mutate(channel, start, countUp()),
      store.mutate(channel, start, countUp()),
      store.mutate(channel, start, () => {
        throw new Error('bad event');
      }),
      store.mutate(channel, start, countUp()),
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((await store.get(channel))?.record.seq, 3);
  });

  it('mutateInOrder applies a run in order with one write; a throwing transition is skipped, the rest see the state before it', async () => {
    const { store, kv, channel, start } = await ownChannel('in-order');
    await store.mutate(channel, start, countUp(0));
    const created = (await kv.get(channel))!.revision;
    const outcomes = await store.mutateInOrder(channel, start, [
      countUp(1),
      countUp(2),
      () => {
        throw new Error('bad event');
      },
      countUp(3),
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => ('ok' in outcome ? outcome.ok.state.record.seq : (outcome.error as Error).message)),
      [2, 3, 'bad event', 4],
    );
    assert.equal((await store.get(channel))?.record.seq, 4);
    assert.equal((await kv.get(channel))!.revision - created, 1, 'one write for the run');
  });

  it('two stores (two processes) on one bucket lose none of each other\'s updates', async () => {
    const [one, two] = [await ChannelStateStore.open(bus), await ChannelStateStore.open(bus)];
    const channel = `${CHANNEL}-race-${busUnderTest.kind}`;
    const start = async () => initialChannelState(channel, 0);
    await Promise.all(Array.from({ length: 60 }, (_, index) => (index % 2 === 0 ? one : two).mutate(channel, start, countUp())));
    assert.equal((await one.get(channel))?.record.seq, 60);
  });

  it('reads the store once for a run of batches: each write starts from the revision it last wrote', async () => {
    let reads = 0;
    const counted = Object.create(bus) as Bus;
    counted.kv = async (name) => {
      const kv = await bus.kv(name);
      return Object.assign(Object.create(kv) as KvBucket, {
        get: (key: string) => {
          reads++;
          return kv.get(key);
        },
      });
    };
    const { store, channel, start } = await ownChannel('no-reads', counted);
    for (let index = 0; index < 10; index++) await store.mutate(channel, start, countUp(index));
    assert.equal((await store.get(channel))?.record.seq, 10);
    assert.equal(reads, 2, 'one read before the first write (nothing stored yet), one by get()');
  });

  it('another process\'s write between batches is read, not overwritten: the remembered revision conflicts', async () => {
    const { store, kv, channel, start } = await ownChannel('overtaken');
    await store.mutate(channel, start, countUp(0));
    const theirs = initialChannelState(channel, 0);
    await kv.put(channel, encodeJson({ ...theirs, record: { ...theirs.record, seq: 100 } }));
    assert.equal((await store.mutate(channel, start, countUp(100))).state.record.seq, 101);
    assert.equal((await store.get(channel))?.record.seq, 101);
  });

  it('a batch that changes nothing is judged against the stored state, not the remembered one', async () => {
    const { store, kv, channel, start } = await ownChannel('noop-overtaken');
    await store.mutate(channel, start, countUp(0));
    const theirs = initialChannelState(channel, 0);
    await kv.put(channel, encodeJson({ ...theirs, record: { ...theirs.record, seq: 7 } }));
    const seen = await store.mutate(channel, start, (state) => ({ state, emit: null, wakeAtMs: null, applied: false }));
    assert.equal(seen.state.record.seq, 7);
  });

  it('a state deleted by another process starts again from initial()', async () => {
    const { store, kv, channel, start } = await ownChannel('deleted');
    await store.mutate(channel, start, countUp(0));
    await store.mutate(channel, start, countUp(1));
    await kv.delete(channel);
    assert.equal((await store.mutate(channel, start, countUp(0))).state.record.seq, 1);
    assert.equal((await store.get(channel))?.record.seq, 1);
  });

  it('an unchanged state is not written', async () => {
    const store = await ChannelStateStore.open(bus);
    await store.mutate(CHANNEL, initial, countUp());
    const kv = await bus.kv(BUCKETS.channelState);
    const before = (await kv.get(CHANNEL))!.revision;
    await store.mutate(CHANNEL, initial, (state) => ({ state, emit: null, wakeAtMs: null, applied: false }));
    assert.equal((await kv.get(CHANNEL))!.revision, before);
  });
});
