import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlightSlots } from './in-flight-slots.js';

describe('InFlightSlots', () => {
  it('gives each key at most its limit, independently of the others', () => {
    const slots = new InFlightSlots();
    assert.equal(slots.tryAcquire('acme/a', 2), true);
    assert.equal(slots.tryAcquire('acme/a', 2), true);
    assert.equal(slots.tryAcquire('acme/a', 2), false, 'a third one waits');
    assert.equal(slots.tryAcquire('acme/b', 2), true, 'another key is not held up');
    assert.equal(slots.count('acme/a'), 2);
  });

  it('frees a slot on release and forgets a key with nothing in flight', () => {
    const slots = new InFlightSlots();
    slots.tryAcquire('acme/a', 1);
    assert.equal(slots.tryAcquire('acme/a', 1), false);
    slots.release('acme/a');
    assert.equal(slots.count('acme/a'), 0);
    assert.equal(slots.tryAcquire('acme/a', 1), true);
    slots.release('acme/a');
    slots.release('acme/a');
    assert.equal(slots.count('acme/a'), 0, 'an extra release does not go negative');
  });
  it('hands a freed slot to the oldest waiter, and refuses at once beyond the waiting line', async () => {
    const slots = new InFlightSlots();
    assert.equal(await slots.acquire('acme/a', 1, 2), true);
    const order: string[] = [];
    const first = slots.acquire('acme/a', 1, 2).then((acquired) => order.push(`first ${acquired}`));
    const second = slots.acquire('acme/a', 1, 2).then((acquired) => order.push(`second ${acquired}`));
    assert.equal(await slots.acquire('acme/a', 1, 2), false, 'a third waiter is refused at once');
    assert.equal(slots.waitingFor('acme/a'), 2);
    slots.release('acme/a');
    await first;
    assert.deepEqual(order, ['first true']);
    assert.equal(slots.count('acme/a'), 1, 'the slot went to the waiter, not back to the pool');
    slots.release('acme/a');
    await second;
    assert.deepEqual(order, ['first true', 'second true']);
    slots.release('acme/a');
    assert.equal(slots.count('acme/a'), 0);
    assert.equal(slots.waitingFor('acme/a'), 0);
  });

  it('answers every waiter false when the waiting is abandoned', async () => {
    const slots = new InFlightSlots();
    assert.equal(slots.tryAcquire('acme/a', 1), true);
    const waiter = slots.acquire('acme/a', 1, 4);
    slots.abandonWaiting();
    assert.equal(await waiter, false);
    assert.equal(slots.count('acme/a'), 1, 'what was in flight stays counted until released');
  });
});
