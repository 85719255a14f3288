import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachBus } from '../../../test/support/each-bus.js';
import { createMemoryBus, createNatsBus, type Bus } from '../bus/index.js';
import { DeadLetters, type DeadLetter } from './dead-letters.js';
import { FEDERATION_BUCKETS } from './federation-stores.js';

function letter(index: number, failedAt: string): DeadLetter {
  return {
    delivery_id: `fed_${index.toString(16).padStart(32, '0')}`,
    channel: 'acme/news',
    inbox: `https://social${index}.example/inbox`,
    recipient: `https://social${index}.example/users/alice`,
    activity_type: 'Create',
    activity_id: `https://live.example/ap/actors/acme.news/notes/${index}/activity`,
    activity: `{"type":"Create","n":${index}}`,
    attempts: 4,
    last_error: 'status 503',
    failed_at: failedAt,
    retry_of: null,
  };
}

describeEachBus('federation dead letters across replicas', (busUnderTest) => {
  const buses: Bus[] = [];
  let writer: DeadLetters;
  let reader: DeadLetters;
  before(async () => {
    const natsUrl = busUnderTest.natsUrl();
    if (natsUrl) buses.push(await createNatsBus({ url: natsUrl }), await createNatsBus({ url: natsUrl }));
    else buses.push(createMemoryBus());
    writer = new DeadLetters(await buses[0]!.kv(FEDERATION_BUCKETS.deadLetters));
    reader = new DeadLetters(await buses[buses.length - 1]!.kv(FEDERATION_BUCKETS.deadLetters));
  });
  after(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
  });

  it('keeps one dead letter per delivery: a job dead-lettered again after a redelivery does not make a second', async () => {
    await writer.put(letter(1, '2026-12-07T07:00:00.000Z'));
    await writer.put({ ...letter(1, '2026-12-07T07:00:05.000Z'), attempts: 5 });
    const page = await reader.page({ limit: 50 });
    assert.deepEqual(page.dead_letters.map((item) => [item.delivery_id, item.attempts]), [[letter(1, '').delivery_id, 5]]);
    assert.equal(page.next_after, null);
    assert.equal('activity' in page.dead_letters[0]!, false, 'the list has no bodies');
    assert.equal((await reader.read(letter(1, '').delivery_id))?.letter.activity, '{"type":"Create","n":1}');
  });

  it('pages oldest first, by failure time then id, across another replica\'s writes; a removed cursor still continues', async () => {
    // Written out of order; two fail at the same millisecond (then the id decides).
    await writer.put(letter(4, '2026-12-07T07:04:00.000Z'));
    await writer.put(letter(3, '2026-12-07T07:02:00.000Z'));
    await writer.put(letter(2, '2026-12-07T07:02:00.000Z'));
    await writer.put(letter(5, '2026-12-07T07:05:00.000Z'));
    const order = [1, 2, 3, 4, 5].map((index) => letter(index, '').delivery_id);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page: Awaited<ReturnType<DeadLetters['page']>> = await reader.page({ limit: 2, ...(after ? { after } : {}) });
      seen.push(...page.dead_letters.map((item) => item.delivery_id));
      if (page.next_after === null) break;
      after = page.next_after;
    }
    assert.deepEqual(seen, order);

    const first = await reader.page({ limit: 2 });
    await writer.remove(first.dead_letters[1]!.delivery_id);
    const next = await reader.page({ limit: 2, after: first.next_after! });
    assert.deepEqual(next.dead_letters.map((item) => item.delivery_id), order.slice(2, 4), 'the page after a removed cursor starts after where it was');
  });

  it('reads nothing for an id that is not a delivery id (no KV key from the URL)', async () => {
    assert.equal(await reader.read('..'), undefined);
    assert.equal(await reader.read(`fed_${'0'.repeat(31)}`), undefined);
    assert.equal(await reader.read(`fed_${'f'.repeat(32)}`), undefined);
  });
});
