import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimedQueue } from './timed-queue.js';

describe('TimedQueue', () => {
  it('gives back pairs oldest first and says so when empty', () => {
    const queue = new TimedQueue<string>();
    assert.equal(queue.headKey, undefined);
    assert.equal(queue.headMs, undefined);
    queue.shift(); // nothing to remove: no error, still empty
    assert.equal(queue.size, 0);
    queue.push('a', 10);
    queue.push('b', 20);
    assert.equal(queue.size, 2);
    assert.deepEqual([queue.headKey, queue.headMs], ['a', 10]);
    queue.shift();
    assert.deepEqual([queue.headKey, queue.headMs], ['b', 20]);
    queue.shift();
    assert.equal(queue.size, 0);
    assert.equal(queue.headKey, undefined);
  });

  it('keeps the order across its compactions, pushes and shifts interleaved', () => {
    const queue = new TimedQueue<number>();
    let pushed = 0;
    let shifted = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 200; i++, pushed++) queue.push(pushed, pushed * 2);
      for (let i = 0; i < 150; i++, shifted++) {
        assert.equal(queue.headKey, shifted);
        assert.equal(queue.headMs, shifted * 2);
        queue.shift();
      }
      assert.equal(queue.size, pushed - shifted);
    }
    queue.clear();
    assert.equal(queue.size, 0);
    queue.push(7, 1);
    assert.equal(queue.headKey, 7);
  });
});
