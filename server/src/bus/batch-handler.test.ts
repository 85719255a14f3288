import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchHandler } from './batch-handler.js';
import type { BusMessage } from './bus.js';

/** A delivery as the bus hands it over; settling is the bus's business, not this test's. */
function delivery(seq: number): BusMessage {
  return { subject: 's', data: new Uint8Array(), seq, deliveryCount: 1, ack() {}, nak() {}, working() {}, term() {} };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('batchHandler lingering', () => {
  it('waits extra turns while messages keep arriving, up to lingerTurns', async () => {
    const batches: number[][] = [];
    const handler = batchHandler(async (messages) => void batches.push(messages.map((m) => m.seq)), { maxBatch: 100, lingerTurns: 3 });
    const done: Array<Promise<void>> = [];
    let seq = 0;
    // Five messages a turn for eight turns: the first batch takes four turns' worth (one plus three lingering).
    for (let turn = 0; turn < 8; turn++) {
      for (let i = 0; i < 5; i++) done.push(Promise.resolve(handler(delivery(++seq))));
      await nextTurn();
    }
    await Promise.all(done);
    assert.deepEqual(batches[0], Array.from({ length: 20 }, (_, index) => index + 1));
    assert.deepEqual(batches.flat(), Array.from({ length: 40 }, (_, index) => index + 1), 'each once, in order');
  });

  it('stops lingering at the first turn in which nothing arrived, and at maxBatch', async () => {
    const batches: number[][] = [];
    const handler = batchHandler(async (messages) => void batches.push(messages.map((m) => m.seq)), { maxBatch: 6, lingerTurns: 10 });
    await handler(delivery(1)); // a lone message: handled after one turn, as without lingering
    assert.deepEqual(batches, [[1]]);
    const burst = [2, 3, 4, 5, 6, 7, 8].map((seq) => handler(delivery(seq)));
    await Promise.all(burst);
    assert.deepEqual(batches.slice(1), [[2, 3, 4, 5, 6, 7], [8]], 'a full batch goes at once');
  });

  it('refuses a linger that is not a non-negative integer', () => {
    assert.throws(() => batchHandler(async () => {}, { maxBatch: 1, lingerTurns: -1 }), RangeError);
    assert.throws(() => batchHandler(async () => {}, { maxBatch: 1, lingerTurns: 0.5 }), RangeError);
  });
});
