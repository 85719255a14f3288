import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveRange, resolveRangeWithoutSize } from './range-header.js';

describe('resolveRange', () => {
  it('resolves one byte range against the size: closed, open, suffix, cut at the end', () => {
    assert.deepEqual(resolveRange('bytes=100-299', 4096), { kind: 'range', range: { start: 100, end: 299 } });
    assert.deepEqual(resolveRange('bytes=100-', 4096), { kind: 'range', range: { start: 100, end: 4095 } });
    assert.deepEqual(resolveRange('bytes=-10', 4096), { kind: 'range', range: { start: 4086, end: 4095 } });
    assert.deepEqual(resolveRange('bytes=-99999', 4096), { kind: 'range', range: { start: 0, end: 4095 } });
    assert.deepEqual(resolveRange('bytes=4000-99999', 4096), { kind: 'range', range: { start: 4000, end: 4095 } });
    assert.deepEqual(resolveRange('bytes=0-0', 1), { kind: 'range', range: { start: 0, end: 0 } });
    assert.deepEqual(resolveRange(' bytes = 5 - 9 ', 10), { kind: 'range', range: { start: 5, end: 9 } });
  });

  it('is unsatisfiable for a range that starts past the end or asks for nothing', () => {
    assert.deepEqual(resolveRange('bytes=4096-', 4096), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRange('bytes=99999-', 4096), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRange('bytes=5000-6000', 4096), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRange('bytes=-0', 4096), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRange('bytes=0-', 0), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRange('bytes=-5', 0), { kind: 'unsatisfiable' });
  });

  it('answers the whole object for no header, a malformed one, another unit, or several ranges', () => {
    for (const header of [undefined, '', 'bytes=', 'bytes=-', 'bytes=abc-def', 'bytes=9-5', 'items=0-5', 'bytes=0-1,5-9', 'bytes=1e3-', `bytes=${'9'.repeat(30)}-`]) {
      assert.deepEqual(resolveRange(header, 4096), { kind: 'whole' }, String(header));
    }
  });

  it('resolves all but suffix ranges without the size, leaving the end to the store', () => {
    assert.deepEqual(resolveRangeWithoutSize(undefined), { kind: 'whole' });
    assert.deepEqual(resolveRangeWithoutSize('bytes=0-1,5-9'), { kind: 'whole' });
    assert.deepEqual(resolveRangeWithoutSize('bytes=9-5'), { kind: 'whole' });
    assert.deepEqual(resolveRangeWithoutSize('bytes=100-299'), { kind: 'range', range: { start: 100, end: 299 } });
    assert.deepEqual(resolveRangeWithoutSize('bytes=100-'), { kind: 'range', range: { start: 100, end: Number.MAX_SAFE_INTEGER - 1 } });
    assert.equal(resolveRangeWithoutSize('bytes=-10'), undefined);
    assert.equal(resolveRangeWithoutSize(' bytes = -0'), undefined);
  });
});
