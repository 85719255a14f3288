import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../errors/index.js';
import { encodeStreamCursor } from './stream-cursor.js';
import { parseStreamQuery } from './stream-query.js';

/** The 400 a query gets, as `{ code, message }`. */
function refusal(query: Record<string, unknown>): { code: string; status: number; message: string } {
  try {
    parseStreamQuery(query);
  } catch (error) {
    assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
    return { code: error.code, status: error.status, message: error.message };
  }
  assert.fail(`accepted ${JSON.stringify(query).slice(0, 80)}`);
}

describe('parseStreamQuery', () => {
  it('defaults to trending, 20, no filters', () => {
    assert.deepEqual(parseStreamQuery({}), { sort: 'trending', limit: 20, tags: [] });
  });

  it('reads every parameter, trims and folds q and tags, dedupes tags', () => {
    assert.deepEqual(parseStreamQuery({ status: 'live', tag: ['Games', ' GAMES ', 'Chess'], q: '  Morning NEWS ', sort: 'recent', limit: '100' }), {
      sort: 'recent',
      limit: 100,
      tags: ['games', 'chess'],
      status: 'live',
      q: 'morning news',
    });
    assert.deepEqual(parseStreamQuery({ tag: 'News', limit: '1', q: '   ', cursor: '' }), { sort: 'trending', limit: 1, tags: ['news'] });
  });

  it('accepts its own next cursor for the same query, and takes the position from it', () => {
    const query = parseStreamQuery({ status: 'live', tag: 'games' });
    const cursor = encodeStreamCursor(query, { key: [0, -3, -4], channel: 'a/b' });
    assert.deepEqual(parseStreamQuery({ status: 'live', tag: 'GAMES', cursor }).after, { key: [0, -3, -4], channel: 'a/b' });
  });

  const hostile: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown status', { status: 'LIVE' }, /^status: /],
    ['status repeated', { status: ['live', 'live'] }, /^status: status must be given once/],
    ['unknown sort', { sort: 'popular' }, /^sort: /],
    ['sort repeated', { sort: ['trending', 'recent'] }, /^sort: /],
    ['limit 0', { limit: '0' }, /^limit: /],
    ['limit 1000', { limit: '1000' }, /^limit: /],
    ['limit 101', { limit: '101' }, /^limit: /],
    ['limit -1', { limit: '-1' }, /^limit: /],
    ['limit 1e999', { limit: '1e999' }, /^limit: /],
    ['limit abc', { limit: 'abc' }, /^limit: /],
    ['limit 1.5', { limit: '1.5' }, /^limit: /],
    ['limit empty', { limit: '' }, /^limit: /],
    ['limit with spaces', { limit: ' 5' }, /^limit: /],
    ['limit repeated', { limit: ['5', '6'] }, /^limit: /],
    ['q of 10 kB', { q: 'x'.repeat(10_000) }, /^q: q must be at most 100/],
    ['q of 101 characters', { q: 'x'.repeat(101) }, /^q: /],
    ['q repeated', { q: ['a', 'b'] }, /^q: /],
    ['empty tag', { tag: '' }, /^tag: /],
    ['tag of 65 characters', { tag: 't'.repeat(65) }, /^tag: /],
    ['11 tags', { tag: Array.from({ length: 11 }, (_, index) => `t${index}`) }, /^tag: /],
    ['a tag that is an object', { tag: { a: 1 } }, /^tag: /],
    ['garbled cursor', { cursor: 'not-a-cursor' }, /^cursor: /],
    ['cursor of 10 kB', { cursor: 'A'.repeat(10_000) }, /^cursor: /],
    ['cursor repeated', { cursor: ['a', 'b'] }, /^cursor: /],
    ['unknown parameter', { stauts: 'live' }, /unknown query parameter "stauts"/],
    ['bracketed array parameter', { 'status[]': 'live' }, /unknown query parameter "status\[\]"/],
    ['prototype-named parameter', JSON.parse('{"__proto__": "x"}') as Record<string, unknown>, /unknown query parameter "__proto__"/],
    ['10 kB parameter name', { ['n'.repeat(10_000)]: '1' }, /^unknown query parameter "n{40}…"/],
  ];
  for (const [name, query, message] of hostile) {
    it(`refuses ${name} with a 400 naming the parameter`, () => {
      const answer = refusal(query);
      assert.equal(answer.status, 400);
      assert.equal(answer.code, 'bad_request');
      assert.match(answer.message, message);
      assert.ok(answer.message.length < 200, 'the message does not echo huge input');
    });
  }

  it('refuses a cursor made for other filters or another order', () => {
    const cursor = encodeStreamCursor(parseStreamQuery({ status: 'live' }), { key: [0, -3, -4], channel: 'a/b' });
    assert.match(refusal({ status: 'offline', cursor }).message, /^cursor: was issued for another sort or other filters/);
    assert.match(refusal({ status: 'live', sort: 'recent', cursor }).message, /^cursor: /);
    assert.match(refusal({ cursor }).message, /^cursor: /);
  });
});
