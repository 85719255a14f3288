import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRfc3339 } from './rfc3339.js';

describe('parseRfc3339', () => {
  it('reads Twitch nanosecond timestamps to the millisecond', () => {
    assert.equal(parseRfc3339('2023-07-19T10:11:12.123456789Z'), Date.UTC(2023, 6, 19, 10, 11, 12, 123));
    assert.equal(parseRfc3339('2019-11-16T10:11:12.634234626Z'), Date.UTC(2019, 10, 16, 10, 11, 12, 634));
  });

  it('reads short fractions, no fraction, lowercase separators and offsets', () => {
    assert.equal(parseRfc3339('2023-07-19T10:11:12.1Z'), Date.UTC(2023, 6, 19, 10, 11, 12, 100));
    assert.equal(parseRfc3339('2023-07-19T10:11:12Z'), Date.UTC(2023, 6, 19, 10, 11, 12));
    assert.equal(parseRfc3339('2023-07-19t10:11:12z'), Date.UTC(2023, 6, 19, 10, 11, 12));
    assert.equal(parseRfc3339('2023-07-19T12:11:12.5+02:00'), Date.UTC(2023, 6, 19, 10, 11, 12, 500));
    assert.equal(parseRfc3339('2023-07-19T05:41:12-04:30'), Date.UTC(2023, 6, 19, 10, 11, 12));
  });

  it('accepts 29 February only in leap years', () => {
    assert.equal(parseRfc3339('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
    assert.equal(parseRfc3339('2023-02-29T00:00:00Z'), undefined);
  });

  it('rejects what is not RFC 3339', () => {
    for (const bad of [
      null,
      42,
      '',
      '2023-07-19',
      '2023-07-19T10:11Z',
      '2023-07-19T10:11:12',
      '2023-07-19T10:11:12.Z',
      '2023-07-19T10:11:12.1234567891Z',
      '2023-07-19T10:11:12+0200',
      '2023-07-19T10:11:12+24:00',
      '2023-07-32T10:11:12Z',
      '0099-07-19T10:11:12Z',
      ' 2023-07-19T10:11:12Z',
    ]) {
      assert.equal(parseRfc3339(bad), undefined, String(bad));
    }
  });
});
