import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createCanonicalId } from '@live-upload/schema';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { KvConflictError, createMemoryBus, createNatsBus, encodeJson, type Bus } from '../bus/index.js';
import { foldBeacons, foldProviderViewers, viewersOf } from './audience-minute.js';
import { SHARD_AFTER_ENTRIES, SHARD_COUNT, shardOf, splitCells } from './audience-minute-shards.js';
import { audienceReport } from './audience-report.js';
import { AudienceStore } from './audience-store.js';
import { sessionHash, type AudienceBeacon } from './beacon.js';

/** NATS's default max_payload: a KV value larger than this is refused. */
const NATS_MAX_PAYLOAD = 1024 * 1024;

const ref = { publisher: 'acme', slug: 'big-show' };

function beaconsOf(canonicalId: string, count: number, from = 0): AudienceBeacon[] {
  return Array.from({ length: count }, (_, index) => {
    const number = from + index;
    // Every 50th viewer clips; sources and surfaces as a real crowd spreads them.
    return {
      canonical_id: canonicalId,
      channel: 'acme/big-show',
      event: number % 50 === 0 ? 'clip' : 'heartbeat',
      surface: number % 3 === 0 ? 'embed' : 'landing',
      host: number % 3 === 0 ? 'https://blog.example' : null,
      source: ['twitch', 'direct', 'youtube', 'bluesky'][number % 4]!,
      session: sessionHash(`viewer-${number}`),
      n: number % 50 === 0 ? 1 : 0,
      at: 0,
    };
  });
}

it('splits cells by session so the shards partition the minute: counts add up exactly', () => {
  const id = createCanonicalId(ref, Date.UTC(2026, 0, 1));
  const whole = foldBeacons(undefined, id, 7, beaconsOf(id, 5_000))!;
  const parts = splitCells(whole, SHARD_COUNT);
  assert.ok(parts.size > SHARD_COUNT / 2, 'sessions spread over the shards');
  let sessions = 0;
  let clips = 0;
  for (const [shard, part] of parts) {
    for (const cell of part.cells) {
      for (const session of cell.sessions) assert.equal(shardOf(session, SHARD_COUNT), shard);
      for (const clip of cell.clips) assert.equal(shardOf(clip.slice(0, clip.lastIndexOf(':')), SHARD_COUNT), shard, 'a clip is in its session\'s shard');
      clips += cell.clips.length;
    }
    sessions += viewersOf(part);
  }
  assert.equal(sessions, 5_000);
  assert.equal(clips, 100);
});

/**
 * A minute with 100,000 concurrent viewers through the real store on both buses (on NATS its
 * records must each fit the 1 MB max payload), and two stores (two replicas) folding the same
 * beacons while the minute is split under them: exact counts, nothing doubled or lost.
 */
describeEachBus('audience minute shards', (busUnderTest) => {
  let bus: Bus;
  let other: Bus;
  before(async () => {
    const url = busUnderTest.natsUrl();
    bus = url ? await createNatsBus({ url, name: 'audience-shards' }) : createMemoryBus();
    other = url ? await createNatsBus({ url, name: 'audience-shards-replica' }) : bus;
  });
  after(async () => {
    if (other !== bus) await other.close();
    await bus.close();
  });

  it('holds 100,000 viewers of one minute exactly, each record far under 1 MB', async (t) => {
    const store = await AudienceStore.open(bus);
    const id = createCanonicalId(ref, Date.now() - 60_000);
    const minute = 29_000_000;
    const beacons = beaconsOf(id, 100_000);
    const unsplitBytes = encodeJson(foldBeacons(undefined, id, minute, beacons)).byteLength;
    assert.ok(unsplitBytes > NATS_MAX_PAYLOAD, `one record of 100,000 sessions is ${unsplitBytes} bytes: NATS would refuse it`);

    for (let index = 0; index < beacons.length; index += 5_000) await store.addBeacons(id, minute, beacons.slice(index, index + 5_000));
    await store.updateMinute(id, minute, (current) => foldProviderViewers(current, id, minute, 'twitch', 150_000));

    const sizes = await store.minuteRecordSizes(id, minute);
    t.diagnostic(`100,000 sessions: ${sizes.records} records, largest ${sizes.largestBytes} bytes (one record would be ${unsplitBytes} bytes)`);
    assert.equal(sizes.records, 1 + SHARD_COUNT);
    assert.ok(sizes.largestBytes < 64 * 1024, `largest record ${sizes.largestBytes} bytes`);

    const minutes = await store.minutesOf(id);
    assert.equal(minutes.length, 1, 'shards are not minutes');
    const report = audienceReport(id, 'acme/big-show', minutes);
    assert.equal(report.peak_concurrent.ours.viewers, 100_000);
    assert.equal(report.peak_concurrent.providers['twitch']?.viewers, 150_000);
    assert.equal(report.clips, 2_000);
    assert.deepEqual(report.minutes[0]!.by_source, { twitch: 25_000, direct: 25_000, youtube: 25_000, bluesky: 25_000 });
    assert.equal(report.minutes[0]!.by_surface['embed https://blog.example'], 33_334);
    const totals = await store.totalsOf(id);
    assert.equal(totals?.viewer_minutes, 100_000);
    assert.equal(totals?.clips, 2_000);
    assert.deepEqual(totals?.recent, [{ minute, viewers: 100_000 }]);
  });

  it('two replicas folding beacons while the minute splits under them count each once, redeliveries too', async (t) => {
    const [first, second] = [await AudienceStore.open(bus), await AudienceStore.open(other)];
    const id = createCanonicalId(ref, Date.now() - 30_000);
    const minute = 29_000_001;
    const total = SHARD_AFTER_ENTRIES + 4_000;
    const beacons = beaconsOf(id, total);
    // The work queue gives each batch (of 1 to 300: a batch is what was waiting) to one replica, alternately, two at a time
    // each, with providers' counts between; then every batch of the other replica comes again (a redelivery after a lost ack).
    const sizes = [300, 3, 40, 1, 120, 7];
    const batches: AudienceBeacon[][] = [];
    for (let start = 0; start < total; ) {
      const size = sizes[batches.length % sizes.length]!;
      batches.push(beacons.slice(start, start + size));
      start += size;
    }
    // A write that lost every compare-and-set fails its batch, which the work queue delivers again: so here.
    let redelivered = 0;
    const redeliveredUntilDone = async (fold: () => Promise<void>): Promise<void> => {
      for (;;) {
        try {
          return await fold();
        } catch (error) {
          if (!(error instanceof KvConflictError)) throw error;
          redelivered++;
        }
      }
    };
    const run = async (store: AudienceStore, mine: AudienceBeacon[][], provider: string) => {
      for (let index = 0; index < mine.length; index += 2) {
        await Promise.all([
          ...mine.slice(index, index + 2).map((batch) => redeliveredUntilDone(() => store.addBeacons(id, minute, batch))),
          redeliveredUntilDone(() => store.updateMinute(id, minute, (current) => foldProviderViewers(current, id, minute, provider, index))),
        ]);
      }
    };
    const even = batches.filter((_, index) => index % 2 === 0);
    const odd = batches.filter((_, index) => index % 2 === 1);
    await Promise.all([run(first, even, 'twitch'), run(second, odd, 'youtube')]);
    await Promise.all([run(first, odd, 'twitch'), run(second, even, 'youtube')]);

    t.diagnostic(`${batches.length * 2} batches, ${redelivered} failed on contention and were folded again`);
    const [found] = await first.minutesOf(id);
    assert.ok(found);
    assert.equal(viewersOf(found), total);
    assert.deepEqual(Object.keys(found.provider_viewers).sort(), ['twitch', 'youtube'], 'the providers\' counts kept across the split');
    assert.equal((await first.minuteRecordSizes(id, minute)).records, 1 + SHARD_COUNT, 'the minute was split');
    const totals = await second.totalsOf(id);
    assert.equal(totals?.viewer_minutes, total);
    assert.equal(totals?.clips, total / 50);
    assert.deepEqual(totals?.recent, [{ minute, viewers: total }]);
  });
});
