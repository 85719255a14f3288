import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTwitchDuration } from './twitch-duration.js';

describe('parseTwitchDuration', () => {
  it('reads the documented forms', () => {
    assert.equal(parseTwitchDuration('3h8m33s'), 11313);
    assert.equal(parseTwitchDuration('3m21s'), 201);
    assert.equal(parseTwitchDuration('33s'), 33);
    assert.equal(parseTwitchDuration('2h'), 7200);
    assert.equal(parseTwitchDuration('1h0m0s'), 3600);
  });

  it('refuses anything else', () => {
    for (const hostile of ['', 'h', 'ms', '3h8m33sX', ' 3h', '-1s', '1.5h', '60m', '75s', '1000h', '1h1h', '33s8m', '1e3s', '99999999999h', '3h 8m', 'NaN', '0x10s']) {
      assert.equal(parseTwitchDuration(hostile), undefined, hostile);
    }
  });
});
