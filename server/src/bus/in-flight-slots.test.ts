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
});
