import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteArena } from './byte-arena.js';

describe('ByteArena', () => {
  it('copies are independent of their source and of each other, across slabs', () => {
    const arena = new ByteArena(64, 32);
    const sources = Array.from({ length: 20 }, (_, index) => new Uint8Array(index + 1).fill(index));
    const copies = sources.map((source) => arena.copy(source));
    for (const source of sources) source.fill(255);
    copies.forEach((copy, index) => {
      assert.equal(copy.byteLength, index + 1);
      assert.ok(copy.every((byte) => byte === index), `copy ${index} kept its bytes`);
    });
    copies[0]!.fill(9);
    assert.ok(copies[1]!.every((byte) => byte === 1), 'writing one copy does not touch its neighbour');
  });

  it('gives large copies their own memory and copies empty arrays', () => {
    const arena = new ByteArena(64, 32);
    const large = new Uint8Array(100).fill(7);
    const copy = arena.copy(large);
    large.fill(0);
    assert.equal(copy.byteLength, 100);
    assert.ok(copy.every((byte) => byte === 7));
    assert.equal(arena.copy(new Uint8Array(0)).byteLength, 0);
  });

  it('encodes two strings as UTF-8, one after the other, each encoding its own bytes, across slabs', () => {
    const arena = new ByteArena(256, 128);
    const pairs: Array<[string, string]> = [
      ['', ''],
      ['head\n', 'tail'],
      ['ü', '🎮'],
      ['a'.repeat(30), 'ß\u2028'.repeat(5)],
      ['\ud83c', 'lone surrogate first'],
      ['x'.repeat(50), 'y'.repeat(50)], // more than the largest copy at three bytes a unit: its own memory
    ];
    const encoded = pairs.map(([head, tail]) => arena.encode(head, tail));
    pairs.forEach(([head, tail], index) => assert.deepEqual(Buffer.from(encoded[index]!), Buffer.from(head + tail, 'utf8'), `pair ${index}`));
    const repeated = Array.from({ length: 40 }, (_, index) => arena.encode(`${index}:`, 'é'.repeat(index)));
    repeated.forEach((bytes, index) => assert.equal(new TextDecoder().decode(bytes), `${index}:${'é'.repeat(index)}`));
  });
});
