import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MsgIdWindow } from './memory-msg-ids.js';
import { seededRandom } from '../../../test/support/seeded-random.js';

describe('memory bus msg-id window', () => {
  it('answers as a Map of the same ids would, through growth, wrap-around and removal of the oldest', () => {
    for (const seed of [1, 2, 26, 0xc0ffee]) {
      const random = seededRandom(seed);
      const window = new MsgIdWindow();
      const reference = new Map<string, { seq: number; atMs: number }>();
      const order: string[] = [];
      let oldest = 0;
      let seq = 0;
      let nowMs = 1_000;
      const idOf = (n: number) => (n % 7 === 0 ? `twitch:${n}-ß-${'x'.repeat(n % 90)}` : n % 11 === 0 ? '' + n : `twitch:${n.toString(16).padStart(8, '0')}-msg`);
      let next = 0;
      for (let step = 0; step < 60_000; step++) {
        nowMs += Math.floor(random() * 3);
        const r = random();
        if (r < 0.55) {
          // A new id, or one seen before (in the window or already dropped).
          const id = random() < 0.8 ? idOf(next++) : idOf(Math.floor(random() * next));
          const expected = reference.get(id)?.seq;
          assert.equal(window.seqOf(id), expected, `seed ${seed} step ${step}: lookup of ${id}`);
          if (expected === undefined) {
            window.add(id, ++seq, nowMs);
            reference.set(id, { seq, atMs: nowMs });
            order.push(id);
          }
        } else if (r < 0.55 + (reference.size > 3000 ? 0.44 : 0.3)) {
          window.dropOldest();
          if (oldest < order.length) reference.delete(order[oldest++]!);
        } else {
          const id = idOf(Math.floor(random() * (next + 5)));
          assert.equal(window.seqOf(id), reference.get(id)?.seq, `seed ${seed} step ${step}: lookup of ${id}`);
        }
        assert.equal(window.size, reference.size);
        assert.equal(window.oldestAtMs, oldest < order.length ? reference.get(order[oldest]!)!.atMs : undefined);
      }
      for (const [id, { seq: stored }] of reference) assert.equal(window.seqOf(id), stored, `seed ${seed}: ${id} at the end`);
    }
  });

  it('tells apart ids that differ in one code unit, length or a character outside Latin-1, and holds the empty id', () => {
    const window = new MsgIdWindow();
    const ids = ['twitch:a', 'twitch:b', 'twitch:ab', 'twitch:ä', 'twitch:\u{1F600}', 'twitch:\u{1F601}', '', 'youtube:a'];
    ids.forEach((id, index) => window.add(id, index + 1, 0));
    ids.forEach((id, index) => assert.equal(window.seqOf(id), index + 1, id));
    assert.equal(window.seqOf('twitch:'), undefined);
    assert.equal(window.seqOf('twitch:\u{1F602}'), undefined);
    for (let i = 0; i < ids.length; i++) window.dropOldest();
    assert.equal(window.size, 0);
    ids.forEach((id) => assert.equal(window.seqOf(id), undefined));
    window.dropOldest();
    assert.equal(window.oldestAtMs, undefined);
  });
});
