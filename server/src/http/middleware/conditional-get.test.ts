import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ifNoneMatchMatches } from './conditional-get.js';

describe('ifNoneMatchMatches', () => {
  it('compares weakly, handles lists and the wildcard', () => {
    assert.equal(ifNoneMatchMatches('W/"3-x"', 'W/"3-x"'), true);
    assert.equal(ifNoneMatchMatches('"3-x"', 'W/"3-x"'), true);
    assert.equal(ifNoneMatchMatches('"1", W/"3-x" , "9"', 'W/"3-x"'), true);
    assert.equal(ifNoneMatchMatches('*', 'W/"3-x"'), true);
    assert.equal(ifNoneMatchMatches('W/"4-x"', 'W/"3-x"'), false);
    assert.equal(ifNoneMatchMatches('3-x', 'W/"3-x"'), false);
    assert.equal(ifNoneMatchMatches('', 'W/"3-x"'), false);
  });
});
